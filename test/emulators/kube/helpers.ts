/**
 * Shared setup for the Kubernetes emulator tests: a running emulator and real
 * @kubernetes/client-node clients configured from its kubeconfig.
 */
import { request as httpsRequest } from 'node:https';
import { CoreV1Api, CustomObjectsApi, KubeConfig, KubernetesObjectApi, Watch } from '@kubernetes/client-node';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator, KubeEmulatorOptions } from '../../../src/emulators/kube/index.js';

export interface Clients {
  emulator: KubeEmulator;
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  objects: KubernetesObjectApi;
  watch: Watch;
}

/**
 * An emulator with clients. `namespaces` are created through the API first: like a real server,
 * the emulator refuses writes into a namespace that does not exist.
 */
export async function startWithClients(options: KubeEmulatorOptions = {}, namespaces: readonly string[] = []): Promise<Clients> {
  const emulator = await startKubeEmulator(options);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(emulator.kubeconfigYaml());
  const core = kubeConfig.makeApiClient(CoreV1Api);
  for (const name of namespaces) await core.createNamespace({ body: { metadata: { name } } });
  return {
    emulator,
    kubeConfig,
    core,
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
    watch: new Watch(kubeConfig),
  };
}

/** The HTTP code and Status body of a failed client-node call. */
export async function failure(call: Promise<unknown>): Promise<{ code: number; status: Record<string, unknown> }> {
  try {
    await call;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    const body = typeof e.body === 'string' ? (JSON.parse(e.body) as Record<string, unknown>) : ((e.body ?? {}) as Record<string, unknown>);
    return { code: e.code ?? 0, status: body };
  }
  throw new Error('expected the call to fail');
}

/** Polls until `check` returns a value other than undefined, with a generous deadline (no fixed sleeps). */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, what: string, deadlineMs = 20_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25)); // poll interval, not a synchronisation
  }
}

export const CSI_GROUP = 'secrets-store.csi.x-k8s.io';

/** A plain HTTPS request to the emulator (trusting its CA), for what client libraries hide. */
export function rawRequest(
  emulator: KubeEmulator,
  path: string,
  options: { method?: string; token?: string; body?: string; contentType?: string } = {},
): Promise<{ code: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${emulator.url}${path}`,
      {
        method: options.method ?? 'GET',
        ca: emulator.caPem,
        headers: {
          ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }),
          ...(options.contentType === undefined ? {} : { 'Content-Type': options.contentType }),
          // Node sends a DELETE body neither chunked nor sized unless told its length.
          ...(options.body === undefined ? {} : { 'Content-Length': Buffer.byteLength(options.body) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
