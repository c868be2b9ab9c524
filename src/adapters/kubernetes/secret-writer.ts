/**
 * Writes synced Kubernetes Secrets. Unlike upstream it never takes over a Secret it does not manage
 * (the `secrets-store.csi.k8s.io/managed=true` label), sets ownerReferences to the consuming pods in
 * the same write (so Kubernetes deletes the Secret with its last pod), and skips writes when nothing
 * changed.
 *
 * One Secret can be asked for by pods on many nodes, each with its own agent. So a write only ever
 * touches this node's share of the owners: it adds the pods that consume the Secret here and drops
 * the ones that stopped consuming it here (`released`); owners it did not put there (other nodes'
 * pods, or anyone else's references) are kept as they are. The Secret is deleted only when dropping
 * this node's pods leaves no owner at all, with the version it read as a precondition, so an agent
 * that adds its pod at the same moment wins and the Secret stays; and when its `type` changed, it is
 * deleted and created again with the same owners (the API server refuses a type change).
 */
import { createHash } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { SecretletError } from '../../core/errors.js';
import type { KubeConfig, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { MANAGED_LABEL } from '../../core/secrets/desired-secret.js';
import type { DesiredSecret, OwnerPod } from '../../core/secrets/desired-secret.js';
import { httpStatusOf, isConflict, isNotFound, kubeError } from './kube-errors.js';

/**
 * The reason of a write the API server refused for what it holds (400 Bad Request, 422 Invalid: a
 * type without the keys it needs, a bad label): Secret sync retries it at its resync interval and
 * records it once, since only a change of the SecretProviderClass or of the files can fix it.
 */
const REFUSED = 'FailedToCreateSecret';

function refusalOrKubeError(what: string, err: unknown): SecretletError {
  const error = kubeError(what, err);
  const status = httpStatusOf(err);
  if (status !== 400 && status !== 422) return error;
  return new SecretletError({ code: error.code, reason: REFUSED, message: error.message, cause: err });
}

export type SecretApplyResult = 'created' | 'updated' | 'unchanged' | 'unmanaged' | 'deleted' | 'absent';

/** This node's change to a Secret's owners: pods that consume it here, pods that stopped (by uid). */
export interface OwnerChange {
  pods: readonly OwnerPod[];
  released: ReadonlySet<string>;
}

function toBase64(data: Record<string, Uint8Array>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(data).sort()) out[key] = Buffer.from(data[key]!).toString('base64');
  return out;
}

/**
 * The owners after this node's change: the current ones minus what this node released (and minus its
 * own pods, re-added as they are now), plus this node's pods; sorted by uid so equal sets compare equal.
 */
export function mergeOwners(current: readonly V1OwnerReference[], change: OwnerChange): V1OwnerReference[] {
  const mine = new Set(change.pods.map((p) => p.uid));
  const kept = current.filter((o) => !change.released.has(o.uid) && !mine.has(o.uid));
  const added: V1OwnerReference[] = change.pods.map((p) => ({ apiVersion: 'v1', kind: 'Pod', name: p.name, uid: p.uid }));
  const byUid = new Map<string, V1OwnerReference>();
  for (const o of [...kept, ...added]) byUid.set(o.uid, o);
  return [...byUid.values()].sort((a, b) => (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
}

/**
 * Equal string maps (labels, annotations, data) whatever their key order: the API server (Go) returns
 * map keys sorted, while the desired Secret has them in the order they were built (the SPC's labels,
 * then the managed label), so an order-sensitive comparison would rewrite an intact Secret every time.
 */
function sameStringMap(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const left = a ?? {};
  const right = b ?? {};
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((k) => Object.hasOwn(right, k) && left[k] === right[k]);
}

/** Equal owner lists, compared on the fields a write sets; order counts (mergeOwners sorts, the server keeps list order). */
function sameOwners(a: readonly V1OwnerReference[], b: readonly V1OwnerReference[]): boolean {
  return (
    a.length === b.length &&
    a.every((o, i) => {
      const p = b[i]!;
      return o.apiVersion === p.apiVersion && o.kind === p.kind && o.name === p.name && o.uid === p.uid && o.controller === p.controller && o.blockOwnerDeletion === p.blockOwnerDeletion;
    })
  );
}

export class KubeSecretWriter {
  private readonly api: CoreV1Api;
  /**
   * Per Secret, the replacement (type and data, hashed) the API server refused last, and why: the
   * same one is not tried again, since each try deletes and re-creates the Secret. Another type or
   * other data tries again.
   */
  readonly #refusedReplacements = new Map<string, { attempt: string; error: SecretletError }>();

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CoreV1Api);
  }

  /** Create or update the Secret with exactly these data, and this node's owners changed as told. */
  async apply(desired: DesiredSecret, change: OwnerChange): Promise<SecretApplyResult> {
    const data = toBase64(desired.data);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      let current: V1Secret | undefined;
      try {
        current = await this.api.readNamespacedSecret({ name: desired.name, namespace: desired.namespace });
      } catch (e) {
        if (!isNotFound(e)) throw kubeError(`failed to get secret ${desired.namespace}/${desired.name}`, e);
      }
      const currentOwners = current?.metadata?.ownerReferences ?? [];
      const body: V1Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: desired.name,
          namespace: desired.namespace,
          labels: desired.labels,
          annotations: desired.annotations,
          ownerReferences: mergeOwners(currentOwners, change),
        },
        type: desired.type,
        data,
      };
      try {
        if (current === undefined) {
          await this.api.createNamespacedSecret({ namespace: desired.namespace, body });
          return 'created';
        }
        if (current.metadata?.labels?.[MANAGED_LABEL] !== 'true') return 'unmanaged';
        const unchanged =
          current.type === body.type &&
          sameStringMap(current.data, body.data) &&
          sameStringMap(current.metadata?.labels, body.metadata?.labels) &&
          sameStringMap(current.metadata?.annotations, body.metadata?.annotations) &&
          sameOwners(currentOwners, body.metadata?.ownerReferences ?? []);
        if (unchanged) return 'unchanged';
        if (current.type !== body.type) {
          await this.replaceWithType(current, body);
          return 'updated';
        }
        const next: V1Secret = { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } };
        await this.api.replaceNamespacedSecret({ name: desired.name, namespace: desired.namespace, body: next });
        return 'updated';
      } catch (e) {
        // Raced with another writer (or, past our read, with a delete): read again and retry.
        if (isConflict(e) || (current !== undefined && isNotFound(e))) continue;
        if (e instanceof SecretletError) throw e; // already says what failed (a refused type replacement)
        throw refusalOrKubeError(`failed to write secret ${desired.namespace}/${desired.name}`, e);
      }
    }
    throw kubeError(`failed to write secret ${desired.namespace}/${desired.name}`, new Error('too many conflicts'));
  }

  /**
   * The API server refuses a type change ("field is immutable"), which upstream's full PUT runs into
   * on every resync. The Secret is ours (managed label): delete it (uid and version as
   * preconditions, so a concurrent writer's change fails this and the caller reads again) and create
   * it with the new type, keeping its owners. The create is first tried as a dry run: one the API
   * server would refuse (the new type needs keys the data lacks, a webhook) never gets as far as
   * the delete, so even a crash between delete and create cannot cost pods a Secret that was valid.
   * If the real create is still refused (an outage, a webhook that changed its mind), the previous
   * Secret is put back. Either way the refusal is what the caller sees.
   */
  private async replaceWithType(current: V1Secret, body: V1Secret): Promise<void> {
    const { name, namespace } = { name: body.metadata!.name!, namespace: body.metadata!.namespace! };
    const key = `${namespace}/${name}`;
    const attempt = createHash('sha256').update(JSON.stringify([body.type, Object.entries(body.data ?? {}).sort()])).digest('hex');
    const refusedBefore = this.#refusedReplacements.get(key);
    if (refusedBefore?.attempt === attempt) throw refusedBefore.error;
    const refuse = (refused: unknown): SecretletError => {
      const cause = kubeError(`failed to replace secret ${namespace}/${name} with type ${body.type ?? ''}; the previous one stays`, refused);
      // FailedToCreateSecret: Secret sync then retries at its resync interval, not within seconds.
      const error = new SecretletError({ code: cause.code, reason: REFUSED, message: cause.message, cause: refused });
      this.#refusedReplacements.set(key, { attempt, error });
      return error;
    };
    // Validation and admission come before the existence check: AlreadyExists means it would pass.
    await this.api.createNamespacedSecret({ namespace, body, dryRun: 'All' }).catch((e: unknown) => {
      if (!isConflict(e)) throw refuse(e);
    });
    await this.api.deleteNamespacedSecret({ name, namespace, body: { preconditions: { resourceVersion: current.metadata?.resourceVersion, uid: current.metadata?.uid } } });
    try {
      await this.api.createNamespacedSecret({ namespace, body });
    } catch (refused) {
      const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, managedFields: _mf, ...metadata } = current.metadata ?? {};
      await this.api.createNamespacedSecret({ namespace, body: { ...current, metadata } }).catch((e: unknown) => {
        throw kubeError(`failed to replace secret ${namespace}/${name} with type ${body.type ?? ''}, and to put the previous one back`, e);
      });
      throw refuse(refused);
    }
    this.#refusedReplacements.delete(key);
  }

  /**
   * No pod on this node consumes the Secret any more: drop this node's `released` pods from its
   * owners, and delete it if that leaves none (a managed Secret only; an unmanaged one is left alone).
   */
  async release(namespace: string, name: string, released: ReadonlySet<string>): Promise<SecretApplyResult> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      let current: V1Secret;
      try {
        current = await this.api.readNamespacedSecret({ name, namespace });
      } catch (e) {
        if (isNotFound(e)) return 'absent';
        throw kubeError(`failed to get secret ${namespace}/${name}`, e);
      }
      if (current.metadata?.labels?.[MANAGED_LABEL] !== 'true') return 'unmanaged';
      const currentOwners = current.metadata.ownerReferences ?? [];
      const remaining = mergeOwners(currentOwners, { pods: [], released });
      const resourceVersion = current.metadata.resourceVersion;
      try {
        if (remaining.length === 0) {
          // The precondition: if another node added its pod since our read, this fails and we read again.
          await this.api.deleteNamespacedSecret({ name, namespace, body: { preconditions: { resourceVersion, uid: current.metadata.uid } } });
          return 'deleted';
        }
        if (remaining.length === currentOwners.length) return 'unchanged';
        await this.api.replaceNamespacedSecret({ name, namespace, body: { ...current, metadata: { ...current.metadata, ownerReferences: remaining, resourceVersion } } });
        return 'updated';
      } catch (e) {
        if (isNotFound(e)) return 'absent';
        if (isConflict(e)) continue;
        throw kubeError(`failed to release secret ${namespace}/${name}`, e);
      }
    }
    throw kubeError(`failed to release secret ${namespace}/${name}`, new Error('too many conflicts'));
  }
}
