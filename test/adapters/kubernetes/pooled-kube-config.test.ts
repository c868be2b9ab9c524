import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SERVER_SOCKETS, loadKubeConfig } from '../../../src/adapters/kubernetes/kube-config.js';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';

describe('PooledKubeConfig (agent kubeconfig) against the local API server', () => {
  let emulator: KubeEmulator;
  let dir: string;
  let path: string;

  beforeAll(async () => {
    emulator = await startKubeEmulator();
    dir = await mkdtemp(join(tmpdir(), 'secretlet-kc-'));
    path = join(dir, 'kubeconfig');
    await emulator.writeKubeconfig(path);
  });

  afterAll(async () => {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const calls = async (core: CoreV1Api, n: number, concurrent: boolean): Promise<void> => {
    const one = () => core.readNamespace({ name: 'default' });
    if (concurrent) await Promise.all(Array.from({ length: n }, one));
    else for (let i = 0; i < n; i++) await one();
  };

  it('reuses TLS connections: 20 sequential calls need one connection (the plain client opens 20)', async () => {
    const plain = new KubeConfig();
    plain.loadFromFile(path);
    emulator.counters.reset();
    await calls(plain.makeApiClient(CoreV1Api), 20, false);
    expect(emulator.counters.connections()).toBe(20);

    const pooled = loadKubeConfig(path);
    emulator.counters.reset();
    await calls(pooled.makeApiClient(CoreV1Api), 20, false);
    expect(emulator.counters.connections()).toBe(1);
    expect(emulator.counters.total()).toBe(20);
    pooled.closeConnections();
  });

  it('a burst of 200 concurrent calls all succeed over at most API_SERVER_SOCKETS connections', async () => {
    const pooled = loadKubeConfig(path);
    emulator.counters.reset();
    await calls(pooled.makeApiClient(CoreV1Api), 200, true);
    expect(emulator.counters.total()).toBe(200);
    expect(emulator.counters.connections()).toBeLessThanOrEqual(API_SERVER_SOCKETS);
    pooled.closeConnections();
  });
});
