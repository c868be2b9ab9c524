/**
 * The pure half of a rotation cycle. Given every live mount that can be re-run (its plan, its
 * identity and the values it currently shows), `planRotation` groups the unpinned objects by
 * identity and primary region and de-duplicates them, so one cycle asks AWS for each object once
 * however many pods mount it; `settleRotation` takes the answers back and decides, per mount,
 * whether its content changed (and renders the new payload), stayed the same, or could not be
 * refreshed (then the old content stays: rotation never empties or half-updates a mount).
 * Objects that met a fault that falls over in the primary region (`fallsOver`: a server fault, an
 * access denial, or, for a mount with a failover region, a value its JMESPath entries cannot extract)
 * are asked again in their mount's failover region (`planFailover`), with the same rules as a mount.
 * A value is checked against each mount's own entries: mounts that share a request may differ.
 *
 * Pinned objects (an SPC `objectVersion`) are never re-fetched: their current value is reused for
 * rendering. An `objectVersionLabel` is not a pin: a label (AWSPREVIOUS, a custom staging label, an
 * SSM label) moves from version to version, so labelled objects are asked again every cycle, by their
 * label, as upstream re-checks them (aws-provider.md §11.2, §11.3).
 */
import { SecretletError, asSecretletError } from '../errors.js';
import type { AwsIdentity, FetchedObject, MountPlan, ObjectDescriptor, ObjectRequest, RenderedFile, ObjectVersion } from '../model.js';
import { fallsOver, withJmesChecked } from '../mount/mount-job.js';
import { isPinned, objectRequestFor } from '../mount/object-requests.js';
import { renderFiles } from '../render/render-files.js';
import type { Result } from '../result.js';

/** A live mount as rotation needs it. `values` is keyed by object index (ObjectDescriptor.index). */
export interface RotationMount {
  mountKey: string;
  plan: MountPlan;
  identity: AwsIdentity;
  values: ReadonlyMap<number, FetchedObject>;
  /** Larger = the token was handed over more recently; the freshest identity of a group fetches. */
  tokenSeenAt: number;
}

/** One SecretSource.fetch call of a cycle. */
export interface FetchGroup {
  key: string;
  identity: AwsIdentity;
  region: string;
  requests: ObjectRequest[];
}

interface ObjectSlot {
  index: number;
  group: number;
  request: number;
}

export interface RotationPlan {
  groups: FetchGroup[];
  /** Per mount key: where each unpinned object's answer will be. */
  slots: ReadonlyMap<string, ObjectSlot[]>;
}

/** Who a fetch runs as: credentials are per (mode, namespace, service account), addresses per preference. */
export function identityKey(identity: AwsIdentity): string {
  return JSON.stringify([identity.mode, identity.namespace, identity.serviceAccount, identity.preferredAddressType]);
}

export function planRotation(mounts: readonly RotationMount[]): RotationPlan {
  const builder = new PlanBuilder();
  for (const mount of mounts) {
    const region = mount.plan.regions[0];
    if (region === undefined) continue;
    builder.add(mount, region, mount.plan.objects.filter((d) => !isPinned(d)), false);
  }
  return builder.plan();
}

/**
 * The second round of a cycle, as a mount does it (mount-job.ts): the objects whose primary answer
 * was a fault that falls over (a server fault: unavailable, throttled, timed out, internal; or an
 * access denial), for mounts that name a failover region, asked there under their failover names.
 * The other client faults never fail over. Empty when the primary round had no such failure.
 */
export function planFailover(mounts: readonly RotationMount[], primary: RotationPlan, results: ReadonlyArray<readonly FetchOutcome[]>): RotationPlan {
  const builder = new PlanBuilder();
  for (const mount of mounts) {
    const region = mount.plan.regions[1];
    if (region === undefined) continue;
    const failed = new Set<number>();
    for (const slot of primary.slots.get(mount.mountKey) ?? []) {
      const answer = results[slot.group]?.[slot.request];
      const d = mount.plan.objects.find((o) => o.index === slot.index);
      const outcome = answer === undefined || d === undefined ? answer : withJmesChecked(d, answer);
      if (outcome !== undefined && !outcome.ok && fallsOver(outcome.error)) failed.add(slot.index);
    }
    if (failed.size > 0) builder.add(mount, region, mount.plan.objects.filter((d) => failed.has(d.index)), true);
  }
  return builder.plan();
}

/** Groups objects by (identity, region) and de-duplicates requests within a group. */
class PlanBuilder {
  readonly #groups: FetchGroup[] = [];
  readonly #groupIndex = new Map<string, number>();
  readonly #requestIndex = new Map<string, number>();
  readonly #freshness = new Map<number, number>();
  readonly #slots = new Map<string, ObjectSlot[]>();

  add(mount: RotationMount, region: string, objects: readonly ObjectDescriptor[], useFailover: boolean): void {
    const gKey = JSON.stringify([identityKey(mount.identity), region]);
    let g = this.#groupIndex.get(gKey);
    if (g === undefined) {
      g = this.#groups.push({ key: gKey, identity: mount.identity, region, requests: [] }) - 1;
      this.#groupIndex.set(gKey, g);
      this.#freshness.set(g, mount.tokenSeenAt);
    } else if (mount.tokenSeenAt > (this.#freshness.get(g) ?? -Infinity)) {
      // Same service account, newer token: the freshest one kubelet handed over does the fetching.
      this.#groups[g]!.identity = mount.identity;
      this.#freshness.set(g, mount.tokenSeenAt);
    }
    const group = this.#groups[g]!;
    const mine: ObjectSlot[] = [];
    for (const d of objects) {
      const request = objectRequestFor(d, useFailover);
      const rKey = JSON.stringify([g, request]);
      let r = this.#requestIndex.get(rKey);
      if (r === undefined) {
        r = group.requests.push(request) - 1;
        this.#requestIndex.set(rKey, r);
      }
      mine.push({ index: d.index, group: g, request: r });
    }
    this.#slots.set(mount.mountKey, mine);
  }

  plan(): RotationPlan {
    return { groups: this.#groups, slots: this.#slots };
  }
}

export type FetchOutcome = Result<FetchedObject, SecretletError>;

export type MountRotation =
  | { mountKey: string; status: 'unchanged' }
  | {
      mountKey: string;
      status: 'changed';
      values: Map<number, FetchedObject>;
      files: RenderedFile[];
      versions: ObjectVersion[];
      /** Object indexes whose version or bytes changed. */
      changedObjects: number[];
    }
  | { mountKey: string; status: 'failed'; error: SecretletError };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Decides each mount's fate from the group answers (`results[g]` aligned with `plan.groups[g].requests`).
 * A mount with any object that failed keeps its old content and reports the first failure.
 */
export function settleRotation(
  mounts: readonly RotationMount[],
  plan: RotationPlan,
  results: ReadonlyArray<readonly FetchOutcome[]>,
  failover?: { plan: RotationPlan; results: ReadonlyArray<readonly FetchOutcome[]> },
): MountRotation[] {
  return mounts.map((mount): MountRotation => {
    const slots = plan.slots.get(mount.mountKey) ?? [];
    const second = new Map((failover?.plan.slots.get(mount.mountKey) ?? []).map((s) => [s.index, s]));
    const values = new Map(mount.values);
    const changedObjects: number[] = [];
    for (const slot of slots) {
      const answer = results[slot.group]?.[slot.request];
      const d = mount.plan.objects.find((o) => o.index === slot.index);
      if (answer === undefined) {
        return { mountKey: mount.mountKey, status: 'failed', error: missingAnswer(slot.index) };
      }
      const retry = second.get(slot.index);
      // planFailover asked again only for failures; an answer with a retry that looks fine is a value
      // its JMESPath entries could not extract (checked again here only for that error's message).
      let outcome = retry !== undefined && answer.ok && d !== undefined ? withJmesChecked(d, answer) : answer;
      let where = '';
      if (!outcome.ok && retry !== undefined) {
        const answered = failover?.results[retry.group]?.[retry.request];
        const again = answered === undefined || d === undefined ? answered : withJmesChecked(d, answered);
        if (again !== undefined) {
          // Failed in both regions: report both causes, the failover's last (as a mount does).
          where = again.ok ? '' : `${mount.plan.regions[0] ?? '?'}: ${outcome.error.message}; failover ${mount.plan.regions[1] ?? '?'}: `;
          outcome = again;
        }
      }
      if (!outcome.ok) {
        const error = new SecretletError({
          code: outcome.error.code,
          reason: outcome.error.reason,
          field: `objects[${slot.index}].objectName`,
          message: `rotation could not refresh ${d?.objectName ?? '?'} (objects[${slot.index}]): ${where}${outcome.error.message}`,
          cause: outcome.error,
        });
        return { mountKey: mount.mountKey, status: 'failed', error };
      }
      const old = mount.values.get(slot.index);
      if (old === undefined || old.version !== outcome.value.version || !sameBytes(old.bytes, outcome.value.bytes)) {
        changedObjects.push(slot.index);
        values.set(slot.index, outcome.value);
      }
    }
    if (changedObjects.length === 0) return { mountKey: mount.mountKey, status: 'unchanged' };
    try {
      const { files, versions } = renderFiles(mount.plan, values);
      return { mountKey: mount.mountKey, status: 'changed', values, files, versions, changedObjects };
    } catch (e) {
      return { mountKey: mount.mountKey, status: 'failed', error: asSecretletError(e, { code: 'INTERNAL', reason: 'RenderFailed' }) };
    }
  });
}

function missingAnswer(index: number): SecretletError {
  return new SecretletError({ code: 'INTERNAL', reason: 'SourceContractViolation', message: `no answer for objects[${index}] in the rotation cycle` });
}

/**
 * The reason the AWS adapter gives every throttling answer (ThrottlingException, TooManyRequests,
 * SlowDown, ...; adapters/aws/error-mapping.ts). Its code is UNAVAILABLE, like any server fault, so
 * the code alone cannot tell throttling from AWS being down: the reason does.
 */
const THROTTLED_REASON = 'Throttled';

/**
 * True when the whole cycle should back off: any answer says AWS throttled us (the adapter's
 * `Throttled` reason, or RESOURCE_EXHAUSTED from a source that reports quota that way).
 */
export function wasThrottled(results: ReadonlyArray<readonly FetchOutcome[]>): boolean {
  return results.some((rs) => rs.some((r) => !r.ok && (r.error.reason === THROTTLED_REASON || r.error.code === 'RESOURCE_EXHAUSTED')));
}

/** The current values of a freshly fetched mount, keyed by object index (each object's own file holds its raw bytes). */
export function valuesFromPayload(
  plan: Pick<MountPlan, 'objects'>,
  files: readonly RenderedFile[],
  versions: readonly ObjectVersion[],
): Map<number, FetchedObject> {
  const fileByPath = new Map(files.map((f) => [f.path, f]));
  const versionById = new Map(versions.map((v) => [v.id, v.version]));
  const values = new Map<number, FetchedObject>();
  for (const d of plan.objects) {
    const file = fileByPath.get(d.fileName);
    if (file !== undefined) values.set(d.index, { bytes: file.contents, version: versionById.get(d.fileName) ?? '' });
  }
  return values;
}
