/**
 * The watched catalog's start() is what the agent's readiness waits on (`apiServer` in /readyz, and
 * the CSI Probe): it must resolve only once the API server answered the LIST. The informer itself
 * resolves its start() even when the LIST fails, so a node whose API server is down looked ready.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../../src/adapters/kubernetes/kube-config.js';
import { WatchedSpcCatalog } from '../../../src/adapters/kubernetes/spc-catalog.js';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';

describe('WatchedSpcCatalog.start', () => {
  let dir: string;
  let emulator: KubeEmulator;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secretlet-catalog-'));
    emulator = await startKubeEmulator();
  });

  afterAll(async () => {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects while the API server does not answer, and resolves once it does, serving from the cache', async () => {
    // Port 1 on loopback: nothing listens there, so every LIST is refused.
    const dead = join(dir, 'dead-kubeconfig');
    await writeFile(
      dead,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]\n' +
        'contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\nusers: [{name: u, user: {token: t}}]\n',
    );
    const unreachable = new WatchedSpcCatalog(loadKubeConfig(dead));
    await expect(unreachable.start()).rejects.toThrow(/ECONNREFUSED/);
    await unreachable.stop();

    const live = join(dir, 'kubeconfig');
    await emulator.writeKubeconfig(live);
    emulator.apply({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'db', namespace: 'shop' }, spec: { provider: 'aws', parameters: { objects: '' } } });
    const catalog = new WatchedSpcCatalog(loadKubeConfig(live));
    await catalog.start();
    try {
      const gets = () => emulator.counters.byVerbResource()['get secretproviderclasses'] ?? 0;
      const before = gets();
      expect((await catalog.get('shop', 'db'))?.provider).toBe('aws');
      expect(gets()).toBe(before); // from the watched cache, no GET
    } finally {
      await catalog.stop();
    }
  });
});
