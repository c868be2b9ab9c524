/**
 * Writes synced Kubernetes Secrets. Unlike upstream it never takes over a Secret it does not manage
 * (the `secrets-store.csi.k8s.io/managed=true` label), sets ownerReferences to the consuming pods in
 * the same write (so Kubernetes deletes the Secret with its last pod), skips writes when nothing
 * changed, and deletes a managed Secret itself when no consuming pod is left.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { MANAGED_LABEL } from '../../core/secrets/desired-secret.js';
import type { DesiredSecret, OwnerPod } from '../../core/secrets/desired-secret.js';
import { isConflict, isNotFound, kubeError } from './kube-errors.js';

export type SecretApplyResult = 'created' | 'updated' | 'unchanged' | 'unmanaged' | 'deleted' | 'absent';

function toBase64(data: Record<string, Uint8Array>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(data).sort()) out[key] = Buffer.from(data[key]!).toString('base64');
  return out;
}

function owners(pods: readonly OwnerPod[]): V1OwnerReference[] {
  return [...pods]
    .sort((a, b) => (a.uid < b.uid ? -1 : 1))
    .map((p) => ({ apiVersion: 'v1', kind: 'Pod', name: p.name, uid: p.uid }));
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class KubeSecretWriter {
  private readonly api: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CoreV1Api);
  }

  /** Create or update the Secret with exactly these data and owners. */
  async apply(desired: DesiredSecret, pods: readonly OwnerPod[]): Promise<SecretApplyResult> {
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: desired.name,
        namespace: desired.namespace,
        labels: desired.labels,
        annotations: desired.annotations,
        ownerReferences: owners(pods),
      },
      type: desired.type,
      data: toBase64(desired.data),
    };
    for (let attempt = 0; attempt < 5; attempt += 1) {
      let current: V1Secret | undefined;
      try {
        current = await this.api.readNamespacedSecret({ name: desired.name, namespace: desired.namespace });
      } catch (e) {
        if (!isNotFound(e)) throw kubeError(`failed to get secret ${desired.namespace}/${desired.name}`, e);
      }
      try {
        if (current === undefined) {
          await this.api.createNamespacedSecret({ namespace: desired.namespace, body });
          return 'created';
        }
        if (current.metadata?.labels?.[MANAGED_LABEL] !== 'true') return 'unmanaged';
        const unchanged =
          current.type === body.type &&
          sameJson(current.data ?? {}, body.data) &&
          sameJson(current.metadata?.labels ?? {}, body.metadata?.labels) &&
          sameJson(current.metadata?.annotations ?? {}, body.metadata?.annotations ?? {}) &&
          sameJson((current.metadata?.ownerReferences ?? []).map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid })), body.metadata?.ownerReferences);
        if (unchanged) return 'unchanged';
        const next: V1Secret = { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } };
        await this.api.replaceNamespacedSecret({ name: desired.name, namespace: desired.namespace, body: next });
        return 'updated';
      } catch (e) {
        if (isConflict(e)) continue; // raced with another writer: read again and retry
        throw kubeError(`failed to write secret ${desired.namespace}/${desired.name}`, e);
      }
    }
    throw kubeError(`failed to write secret ${desired.namespace}/${desired.name}`, new Error('too many conflicts'));
  }

  /** Delete a managed Secret whose last consuming pod is gone; leaves unmanaged ones alone. */
  async removeIfManaged(namespace: string, name: string): Promise<SecretApplyResult> {
    let current: V1Secret;
    try {
      current = await this.api.readNamespacedSecret({ name, namespace });
    } catch (e) {
      if (isNotFound(e)) return 'absent';
      throw kubeError(`failed to get secret ${namespace}/${name}`, e);
    }
    if (current.metadata?.labels?.[MANAGED_LABEL] !== 'true') return 'unmanaged';
    try {
      await this.api.deleteNamespacedSecret({ name, namespace });
    } catch (e) {
      if (isNotFound(e)) return 'absent';
      throw kubeError(`failed to delete secret ${namespace}/${name}`, e);
    }
    return 'deleted';
  }
}
