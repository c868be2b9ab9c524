import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { WatchedSpcCatalog } from '../../../src/adapters/kubernetes/spc-catalog.js';
import { WatchBackoff } from '../../../src/adapters/kubernetes/watch-backoff.js';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';

describe('WatchBackoff', () => {
  it('doubles from 800 ms up to 30 s, jittered up to twice the step', () => {
    const low = new WatchBackoff({ random: () => 0, now: () => 0 });
    expect(Array.from({ length: 8 }, () => low.next())).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
    const high = new WatchBackoff({ random: () => 0.5, now: () => 0 });
    expect(Array.from({ length: 3 }, () => high.next())).toEqual([1200, 2400, 4800]);
  });

  it('starts again from 800 ms after two minutes without a failure', () => {
    let now = 0;
    const backoff = new WatchBackoff({ random: () => 0, now: () => now });
    backoff.next();
    backoff.next();
    now += 119_999;
    expect(backoff.next()).toBe(3200);
    now += 120_000;
    expect(backoff.next()).toBe(800);
  });
});

describe('the SecretProviderClass watch during an API server outage', () => {
  let kube: KubeEmulator | undefined;
  afterEach(async () => {
    await kube?.stop();
    kube = undefined;
  });

  it('reopens a failed watch after growing waits, and sees changes once the server is back', async () => {
    kube = await startKubeEmulator();
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeconfigYaml());
    // Restarts are run by the test, one at a time: it sees each wait the catalog asked for.
    const waits: number[] = [];
    let pending: (() => void) | undefined;
    const catalog = new WatchedSpcCatalog(kc, {
      backoff: new WatchBackoff({ random: () => 0 }),
      schedule: (restart, ms) => {
        waits.push(ms);
        pending = restart;
        return { cancel: () => (pending = undefined) };
      },
    });
    await catalog.start();
    try {
      const emulator = kube;
      const restartScheduled = async (count: number): Promise<void> => {
        const deadline = Date.now() + 20_000; // a bound on a hang, not a measurement
        while (waits.length < count) {
          if (Date.now() > deadline) throw new Error(`no restart scheduled after ${waits.length} waits`);
          await new Promise((resolve) => setTimeout(resolve, 5)); // poll interval, not a synchronisation
        }
      };
      const runRestart = (): void => {
        const restart = pending;
        pending = undefined;
        restart?.();
      };
      emulator.pause();
      for (let attempt = 1; attempt <= 4; attempt += 1) {
        await restartScheduled(attempt);
        runRestart();
      }
      await restartScheduled(5);
      expect(waits).toEqual([800, 1600, 3200, 6400, 12800]);

      emulator.resume();
      runRestart();
      emulator.apply({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { namespace: 'app', name: 'late' }, spec: { provider: 'aws', parameters: { objects: '' } } });
      // Served from the watch (a GET would also find it, so count that none was made).
      emulator.counters.reset();
      for (let i = 0; (await catalog.get('app', 'late')) === undefined || emulator.counters.byVerbResource()['get secretproviderclasses'] !== undefined; i += 1) {
        if (i > 200) throw new Error('the watch did not deliver the new SecretProviderClass');
        emulator.counters.reset();
        await new Promise((resolve) => setTimeout(resolve, 20)); // poll interval, not a synchronisation
      }
    } finally {
      await catalog.stop();
    }
  });
});
