/**
 * The shape of a Kubernetes object as the manifests generator handles it: plain JSON data read from
 * the YAML in deploy/, with just enough typing to address objects by kind and name. Everything else
 * stays `unknown` because the generator copies it through unchanged.
 */

export interface KubeObjectMetadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeObjectMetadata;
  [field: string]: unknown;
}

/** `group/version` split as kustomize and the API server see it; the core group is ''. */
export function groupVersionOf(obj: Pick<KubeObject, 'apiVersion'>): { group: string; version: string } {
  const slash = obj.apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: obj.apiVersion } : { group: obj.apiVersion.slice(0, slash), version: obj.apiVersion.slice(slash + 1) };
}

/** A short id for messages and lookups, e.g. `DaemonSet kube-system/secretlet`. */
export function describeObject(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  const ns = obj.metadata.namespace;
  return `${obj.kind} ${ns ? `${ns}/` : ''}${obj.metadata.name}`;
}

export function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const meta = v['metadata'] as Record<string, unknown> | undefined;
  return typeof v['apiVersion'] === 'string' && typeof v['kind'] === 'string' && typeof meta === 'object' && meta !== null && typeof meta['name'] === 'string';
}
