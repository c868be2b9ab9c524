/**
 * SecretProviderClass lookups for the kubelet door, served from a watched cache so a burst of
 * hundreds of pod mounts costs the API server one LIST and one WATCH, not a GET per mount. A miss
 * (an SPC applied a moment before its pod) falls back to one direct GET.
 */
import { CustomObjectsApi, makeInformer } from '@kubernetes/client-node';
import type { Informer, KubeConfig, KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import type { SecretObjectSpec, SecretProviderClassSpec, SpcCatalog } from '../../core/ports/spc-catalog.js';
import { isNotFound, kubeError } from './kube-errors.js';
import { WatchBackoff } from './watch-backoff.js';

const GROUP = 'secrets-store.csi.x-k8s.io';
const VERSION = 'v1';
const PLURAL = 'secretproviderclasses';

interface SpcObject extends KubernetesObject {
  spec?: {
    provider?: string;
    parameters?: Record<string, string>;
    secretObjects?: Array<Partial<SecretObjectSpec> & { data?: Array<{ objectName?: string; key?: string }> }>;
  };
}

export function toSpcSpec(obj: SpcObject): SecretProviderClassSpec {
  const spec = obj.spec ?? {};
  return {
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    uid: obj.metadata?.uid ?? '',
    provider: spec.provider ?? '',
    parameters: spec.parameters,
    secretObjects: (spec.secretObjects ?? []).map((s) => ({
      secretName: s.secretName ?? '',
      // No default: the driver rejects a secretObject without a type ("secret type is empty").
      type: s.type ?? '',
      labels: s.labels ?? {},
      annotations: s.annotations ?? {},
      data: (s.data ?? []).map((d) => ({ objectName: d.objectName ?? '', key: d.key ?? '' })),
    })),
  };
}

export interface WatchedSpcCatalogOptions {
  /** Paces the watch's restarts after errors. @default client-go's (watch-backoff.ts) */
  backoff?: WatchBackoff;
  /** Runs `restart` after `ms`; tests pass one they drive. @default an unref'd setTimeout */
  schedule?: (restart: () => void, ms: number) => { cancel(): void };
}

const unrefTimer = (restart: () => void, ms: number): { cancel(): void } => {
  const timer = setTimeout(restart, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
};

export class WatchedSpcCatalog implements SpcCatalog {
  private readonly api: CustomObjectsApi;
  private readonly informer: Informer<SpcObject> & ObjectCache<SpcObject>;
  private started = false;
  private restart: { cancel(): void } | undefined;
  private readonly backoff: WatchBackoff;
  private readonly schedule: (restart: () => void, ms: number) => { cancel(): void };
  /** Whether the informer's LIST has answered since `start()`; what `start()` resolves on. */
  private listed = false;
  private listError: unknown;

  constructor(kc: KubeConfig, options: WatchedSpcCatalogOptions = {}) {
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.backoff = options.backoff ?? new WatchBackoff();
    this.schedule = options.schedule ?? unrefTimer;
    this.informer = makeInformer<SpcObject>(
      kc,
      `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      // The informer swallows a failed LIST (it emits 'error' and its start() resolves), so the
      // outcome is noted here: start() reports it, and readiness waits for the first answer.
      () =>
        (this.api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }) as Promise<never>).then(
          (list) => {
            this.listed = true;
            return list;
          },
          (e: unknown) => {
            this.listError = e;
            throw e;
          },
        ),
    );
    // The informer reopens a watch that ended cleanly itself, but not one that failed: that is
    // restarted here, paced as client-go paces it. Meanwhile the cache may lag; a miss falls back to GET.
    this.informer.on('error', () => {
      if (!this.started || this.restart !== undefined) return;
      this.restart = this.schedule(() => {
        this.restart = undefined;
        // stop() may have come first: a restart then would reopen a watch nobody stops.
        if (this.started) void this.informer.start().catch(() => undefined);
      }, this.backoff.next());
    });
  }

  /** Resolves once the first LIST answered; rejects with its error otherwise (the caller retries). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.listed = false;
    this.listError = undefined;
    try {
      await this.informer.start();
      // stop() may have come while the LIST ran; the informer opens its watch regardless.
      if (!this.started) throw new Error('the SecretProviderClass catalog was stopped while starting');
      if (!this.listed) throw this.listError ?? new Error('the SecretProviderClass list did not answer');
    } catch (e) {
      await this.halt();
      throw e;
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    await this.halt();
  }

  private async halt(): Promise<void> {
    this.started = false;
    this.restart?.cancel();
    this.restart = undefined;
    await this.informer.stop();
  }

  async get(namespace: string, name: string): Promise<SecretProviderClassSpec | undefined> {
    const cached = this.started ? this.informer.get(name, namespace) : undefined;
    if (cached !== undefined) return toSpcSpec(cached);
    try {
      const obj = (await this.api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as SpcObject;
      return toSpcSpec(obj);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw kubeError(`failed to get secretproviderclass ${namespace}/${name}`, e);
    }
  }
}
