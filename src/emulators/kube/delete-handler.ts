/**
 * DELETE of one object and of a collection, with what the API server does around the registry:
 * NamespaceLifecycle's refusal to delete `default`, `kube-system` and `kube-public` (403), delete
 * options from the query or a DeleteOptions body (preconditions, propagationPolicy,
 * orphanDependents, dryRun), and the answer: the deleted object for registries that return it,
 * otherwise a `Status` of success.
 */
import type { ResourcePath } from './routes.js';
import { deleteSuccess, forbidden } from './status.js';
import type { DeleteOptions, DeletePropagation, ObjectStore } from './store.js';
import type { KubeObject } from './types.js';
import { inVersion } from './versions.js';

/** NamespaceLifecycle's immortal namespaces. */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

function deleteOptions(query: URLSearchParams, rawBody: unknown, dryRun: boolean): DeleteOptions {
  const body = (typeof rawBody === 'object' && rawBody !== null ? rawBody : {}) as {
    propagationPolicy?: DeletePropagation;
    orphanDependents?: boolean;
    preconditions?: { uid?: string; resourceVersion?: string };
  };
  const policy = (query.get('propagationPolicy') as DeletePropagation | null) ?? body.propagationPolicy;
  const orphan = body.orphanDependents === true || query.get('orphanDependents') === 'true';
  return {
    ...(body.preconditions === undefined ? {} : { preconditions: body.preconditions }),
    ...(orphan ? { propagationPolicy: 'Orphan' } : policy === undefined ? {} : { propagationPolicy: policy }),
    dryRun,
  };
}

function admitDelete(path: ResourcePath, name: string): void {
  if (path.type.kind === 'Namespace' && IMMORTAL_NAMESPACES.has(name)) throw forbidden(path.type, name, 'this namespace may not be deleted');
}

export function deleteObject(store: ObjectStore, path: ResourcePath, query: URLSearchParams, body: unknown, dryRun: boolean): { code: number; body: unknown } {
  const { type, namespace } = path;
  const name = path.name ?? '';
  admitDelete(path, name);
  const deleted = store.delete(type, namespace, name, deleteOptions(query, body, dryRun));
  return { code: 200, body: type.returnsDeletedObject ? inVersion(type, deleted) : deleteSuccess(type, name, deleted.metadata.uid) };
}

/** Deletes each of `listed` still there (an earlier cascade may have taken it); answers the list deleted. */
export function deleteCollection(
  store: ObjectStore,
  path: ResourcePath,
  listed: readonly KubeObject[],
  request: { query: URLSearchParams; body: unknown; dryRun: boolean },
): { code: number; body: unknown } {
  const { type } = path;
  const options = deleteOptions(request.query, request.body, request.dryRun);
  const deleted = listed.flatMap((o) => {
    const name = o.metadata.name ?? '';
    if (store.get(type, o.metadata.namespace, name) === undefined) return [];
    admitDelete(path, name);
    return [inVersion(type, store.delete(type, o.metadata.namespace, name, options))];
  });
  return { code: 200, body: { kind: type.listKind, apiVersion: type.apiVersion, metadata: {}, items: deleted } };
}
