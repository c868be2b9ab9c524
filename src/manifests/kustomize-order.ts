/**
 * Output order of `kubectl kustomize` (kustomize's "legacy" sort), so `secretlet manifests` emits
 * objects in the same order as the overlays: namespaces, CRDs and RBAC before the workloads that
 * need them, webhooks last. Copied from kustomize api/resid/gvk.go (orderFirst / orderLast);
 * kinds in neither list sort between them by group, version, kind, then namespace and name.
 */
import type { KubeObject } from './kube-object.js';
import { groupVersionOf } from './kube-object.js';

const ORDER_FIRST = [
  'Namespace',
  'ResourceQuota',
  'StorageClass',
  'CustomResourceDefinition',
  'ServiceAccount',
  'PodSecurityPolicy',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Endpoints',
  'Service',
  'LimitRange',
  'PriorityClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Deployment',
  'StatefulSet',
  'CronJob',
  'PodDisruptionBudget',
];
const ORDER_LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

function kindRank(kind: string): number {
  const first = ORDER_FIRST.indexOf(kind);
  if (first >= 0) return first - ORDER_FIRST.length;
  const last = ORDER_LAST.indexOf(kind);
  return last >= 0 ? last + 1 : 0;
}

/** kustomize's Gvk.String(): `group_version_kind` with `~G`/`~V` for empty parts. */
function gvkKey(obj: KubeObject): string {
  const { group, version } = groupVersionOf(obj);
  return `${group || '~G'}_${version || '~V'}_${obj.kind}`;
}

function idKey(obj: KubeObject): string {
  return `${obj.metadata.namespace || '~X'}|${obj.metadata.name}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareLegacyOrder(a: KubeObject, b: KubeObject): number {
  const byGvk = gvkKey(a) === gvkKey(b) ? 0 : kindRank(a.kind) - kindRank(b.kind) || compareStrings(gvkKey(a), gvkKey(b));
  return byGvk || compareStrings(idKey(a), idKey(b));
}

/** A sorted copy; the input array is left as it was. */
export function sortLegacyOrder(objects: readonly KubeObject[]): KubeObject[] {
  return [...objects].sort(compareLegacyOrder);
}
