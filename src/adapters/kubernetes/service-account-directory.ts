/**
 * IRSA role lookups: the `eks.amazonaws.com/role-arn` annotation of a pod's service account, cached
 * for a short time so a burst of pods of one service account costs one GET, while an annotation
 * change still takes effect within the TTL.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import { kubeError } from './kube-errors.js';

export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';

export interface CachedServiceAccountDirectoryOptions {
  ttlMs?: number;
  maxEntries?: number;
}

export class CachedServiceAccountDirectory {
  private readonly api: CoreV1Api;
  // Caches the promise so concurrent lookups of one service account share a single GET.
  private readonly cache: LRUCache<string, Promise<string | undefined>>;
  private gets = 0;

  constructor(kc: KubeConfig, options: CachedServiceAccountDirectoryOptions = {}) {
    this.api = kc.makeApiClient(CoreV1Api);
    this.cache = new LRUCache({ max: options.maxEntries ?? 5000, ttl: options.ttlMs ?? 60_000 });
  }

  roleArnOf(namespace: string, name: string): Promise<string | undefined> {
    const key = `${namespace}/${name}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    this.gets += 1;
    const pending = this.api
      .readNamespacedServiceAccount({ name, namespace })
      .then((sa) => sa.metadata?.annotations?.[ROLE_ARN_ANNOTATION] || undefined)
      .catch((e: unknown) => {
        this.cache.delete(key);
        throw kubeError(`failed to get service account ${namespace}/${name}`, e);
      });
    this.cache.set(key, pending);
    return pending;
  }

  get apiGets(): number {
    return this.gets;
  }
}
