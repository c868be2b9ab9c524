/**
 * The `status` subresource split, as the registries of pods, nodes and namespaces make it: a write
 * through `/status` changes only `status`, and a write through the main resource leaves `status` as
 * stored (pod/node/namespace strategies' PrepareForUpdate). Kinds without the subresource (Secrets,
 * the CSI CRDs, which declare none) are written whole. Only HTTP writes are split: the seeding API
 * (`kube.apply`) sets whatever it is given, as a test playing kubelet expects.
 */
import type { KubeObject } from './types.js';

/** Which part of an object a write may change. */
export type WriteScope = 'main' | 'status';

/**
 * The object a write through `/status` stores: the stored one with the incoming status, keeping the
 * client's preconditions (resourceVersion, uid) so a stale write is still a 409.
 */
function withStatusFrom(existing: KubeObject, incoming: KubeObject): KubeObject {
  const result = structuredClone(existing);
  if (incoming['status'] === undefined) delete result['status'];
  else result['status'] = structuredClone(incoming['status']);
  const { resourceVersion, uid } = incoming.metadata;
  if (resourceVersion === undefined || resourceVersion === '') delete result.metadata.resourceVersion;
  else result.metadata.resourceVersion = resourceVersion;
  if (uid !== undefined && uid !== '') result.metadata.uid = uid;
  return result;
}

/** The object a write through the main resource stores: the incoming one with the stored status. */
function withStatusOf(incoming: KubeObject, existing: KubeObject): KubeObject {
  const result = { ...incoming };
  if (existing['status'] === undefined) delete result['status'];
  else result['status'] = structuredClone(existing['status']);
  return result;
}

/**
 * What an update through `scope` of a type with (`hasStatus`) or without a status subresource
 * actually writes. `existing` is undefined when there is nothing stored (the store then answers 404).
 */
export function scopedWrite(options: { scope: WriteScope; hasStatus: boolean; existing: KubeObject | undefined; incoming: KubeObject }): KubeObject {
  const { scope, hasStatus, existing, incoming } = options;
  if (existing === undefined || !hasStatus) return incoming;
  return scope === 'status' ? withStatusFrom(existing, incoming) : withStatusOf(incoming, existing);
}
