/**
 * Where the emulator tells clients to connect. Bound to every interface (`--host 0.0.0.0`), its
 * kubeconfig must still name an address the certificate covers: a client given
 * `https://0.0.0.0:<port>` fails TLS hostname verification.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';

describe('an emulator bound to the wildcard address', () => {
  let emulator: KubeEmulator;
  beforeAll(async () => {
    emulator = await startKubeEmulator({ host: '0.0.0.0' });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('writes a kubeconfig that points at loopback, and client-node connects with it over verified TLS', async () => {
    const config = parse(emulator.kubeconfigYaml()) as { clusters: { cluster: { server: string } }[] };
    expect(config.clusters[0]?.cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.url).toBe(config.clusters[0]?.cluster.server);

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(emulator.kubeconfigYaml());
    const namespaces = await kubeConfig.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(['default', 'kube-system']);
  });
});
