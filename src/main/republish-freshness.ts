/**
 * The MountFreshness port over the live mounts: a republish (kubelet, about every 75 s per volume)
 * or a repeated provider Mount is answered from memory when the agent's own rotation keeps that
 * mount current anyway. Conditions, all of them:
 * - the mount is live, at the same target, and its values were confirmed against AWS less than
 *   `windowMs` before the call arrived (by the mount's own read or by a rotation cycle);
 * - the request asks for exactly what was verified (same plan: objects, regions, modes, pod) as the
 *   same identity (mode, service account, pod; the token may be newer and is handed over);
 * - the target directory's stamp is the one recorded after the agent's last write or check, so a
 *   fresh tmpfs at the same path, or files removed or added behind the agent's back, get a full mount;
 * - the SecretProviderClass's `secretObjects` are the ones the mount was recorded with, so an edit
 *   of them goes through a full mount, which records it and lets Secret sync follow (upstream reads
 *   the SPC on every reconcile).
 *
 * `windowMs` is the rotation interval minus the value cache's TTL (a mount read from the cache may
 * be that much older than its arrival), so no file is ever older than one rotation interval — the
 * same promise the reconciler makes. A window of 0 (rotation off) answers nothing from memory.
 */
import type { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import type { AwsIdentity, MountPlan, ObjectVersion } from '../core/model.js';
import type { MountFreshness, RepublishRequest } from '../core/ports/mount-freshness.js';
import type { SecretObjectSpec } from '../core/ports/spc-catalog.js';
import type { LiveMounts } from './rotation-live-mounts.js';

export interface RepublishFreshnessOptions {
  live: LiveMounts;
  windowMs: number;
  targetStamp: (path: string) => string | undefined;
  /** The `secretObjects` the event log holds for a mount; undefined when it has no such mount. */
  recordedSecretObjects?: (mountKey: string) => readonly SecretObjectSpec[] | undefined;
  metrics?: AgentMetrics;
}

export class RepublishFreshness implements MountFreshness {
  readonly #o: RepublishFreshnessOptions;

  constructor(options: RepublishFreshnessOptions) {
    this.#o = options;
  }

  current(request: RepublishRequest): Promise<ObjectVersion[] | undefined> {
    return Promise.resolve(this.#current(request));
  }

  #current(request: RepublishRequest): ObjectVersion[] | undefined {
    const { live, windowMs } = this.#o;
    const mount = live.get(request.mountKey);
    if (windowMs <= 0 || mount === undefined || mount.door !== request.door || mount.targetPath !== request.targetPath) return undefined;
    if (mount.verifiedAt === undefined || mount.targetStamp === undefined) return undefined;
    if (request.receivedAt - mount.verifiedAt >= windowMs) return undefined;
    if (!samePlan(mount.plan, request.plan) || !sameSubject(mount.identity, request.identity)) return undefined;
    if (this.#o.targetStamp(request.targetPath) !== mount.targetStamp) return undefined;
    if (request.secretObjects !== undefined && !this.#sameSecretObjects(request.mountKey, request.secretObjects)) return undefined;
    live.handOver(request.mountKey, request.identity);
    this.#o.metrics?.republishSkipped.inc({ door: request.door });
    return mount.versions;
  }

  #sameSecretObjects(mountKey: string, requested: readonly SecretObjectSpec[]): boolean {
    const recorded = this.#o.recordedSecretObjects?.(mountKey);
    // Nothing recorded to compare with (no log wired): the request's spec cannot be known unchanged.
    // Usually the very array the door recorded (the catalog's parsed SPC): sameJson then needs no serialisation.
    return recorded !== undefined && sameJson(recorded, requested);
  }
}

/** JSON equality, with the same object (the common case on one thread) answered without serialising. */
function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function samePlan(a: MountPlan, b: MountPlan): boolean {
  if (a === b) return true;
  const { objects: objectsA, ...restA } = a;
  const { objects: objectsB, ...restB } = b;
  // Plans of one SecretProviderClass share their frozen objects (ValidatedObjectsMemo) on one thread,
  // so the objects, nearly all of a plan's data, compare by reference; across pool threads (or after
  // the memo evicted them) they are copies, so compare the data, with the same JSON equality as the rest.
  return sameJson(restA, restB) && sameJson(objectsA, objectsB);
}

function sameSubject(a: AwsIdentity, b: AwsIdentity): boolean {
  return (
    a.mode === b.mode &&
    a.namespace === b.namespace &&
    a.serviceAccount === b.serviceAccount &&
    a.podUid === b.podUid &&
    a.preferredAddressType === b.preferredAddressType
  );
}
