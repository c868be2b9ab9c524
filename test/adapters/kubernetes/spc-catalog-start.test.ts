/**
 * The watched catalog's start() is what the agent's readiness waits on (`apiServer` in /readyz, and
 * the CSI Probe): it must resolve only once the API server answered the LIST. The informer itself
 * resolves its start() even when the LIST fails, so a node whose API server is down looked ready.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../../src/adapters/kubernetes/kube-config.js';
import { WatchedSpcCatalog } from '../../../src/adapters/kubernetes/spc-catalog.js';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import { selfSignedCertificate } from '../../../src/emulators/kube/x509.js';
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

  it('stopped while its LIST is pending (SIGTERM during start-up), rejects and leaves no watch open', async () => {
    // An API server that holds the LIST until told to answer, and counts the watches left open.
    const held: ServerResponse[] = [];
    let listHeld: () => void = () => undefined;
    const listArrived = new Promise<void>((resolve) => (listHeld = resolve));
    const sockets = new Set<Socket>();
    let watches = 0;
    let openWatches = 0;
    let watchesClosed: () => void = () => undefined;
    const allWatchesClosed = new Promise<void>((resolve) => (watchesClosed = resolve));
    const { certPem, keyPem } = selfSignedCertificate({ commonName: 'held', hosts: ['127.0.0.1'] });
    const server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
      if (req.url?.includes('watch=true')) {
        watches += 1;
        openWatches += 1;
        res.on('close', () => {
          openWatches -= 1;
          if (openWatches === 0) watchesClosed();
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(''); // a watch stays open until the client closes it
        return;
      }
      held.push(res);
      listHeld();
    });
    server.on('secureConnection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const config = join(dir, 'held-kubeconfig');
    await writeFile(
      config,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\n` +
        'contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\nusers: [{name: u, user: {token: t}}]\n',
    );
    const { kc, requests } = countingKubeConfig(config);
    const { restarts, schedule } = restartsRunByTest();
    try {
      const catalog = new WatchedSpcCatalog(kc, { schedule });
      const outcome = catalog.start().then(
        () => 'resolved',
        (e: unknown) => (e as Error).message,
      );
      await listArrived;
      await catalog.stop();
      held[0]!.writeHead(200, { 'content-type': 'application/json' });
      held[0]!.end(JSON.stringify({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassList', metadata: { resourceVersion: '1' }, items: [] }));
      expect(await outcome).toBe('the SecretProviderClass catalog was stopped while starting');
      // Whatever watch the informer opened after its LIST is closed again, and none is reopened:
      // nothing keeps a stopping agent alive. (Idle keep-alive sockets do not: Node unrefs them.)
      await allWatchesClosed;
      expect(watches).toBe(1);
      // No restart is left pending (the watch's end after stop() asks for none, or stop() cancelled it) ...
      expect(restarts.filter((r) => !r.cancelled)).toEqual([]);
      // ... and one that fires anyway, a timer cancelled too late, reopens nothing.
      const before = requests();
      for (const r of restarts) r.run();
      expect(requests()).toBe(before);
      expect(openWatches).toBe(0);
      expect(watches).toBe(1);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('cancels at stop() the watch restart a failed watch is waiting for, which reopens nothing if it fires anyway', async () => {
    const live = join(dir, 'restart-kubeconfig');
    await emulator.writeKubeconfig(live);
    const { kc, requests } = countingKubeConfig(live);
    const { restarts, schedule, asked } = restartsRunByTest();
    const catalog = new WatchedSpcCatalog(kc, { schedule });
    await catalog.start();
    try {
      emulator.pause(); // the watch is cut, and reopening it fails: a restart is scheduled
      await asked;
      expect(restarts.map((r) => r.cancelled)).toEqual([false]);
      await catalog.stop();
      expect(restarts.map((r) => r.cancelled)).toEqual([true]);
      const before = requests();
      restarts[0]!.run();
      expect(requests()).toBe(before);
    } finally {
      emulator.resume();
      await catalog.stop();
    }
  });
});

/**
 * A kubeconfig counting the requests prepared on it. The informer prepares each of its requests
 * there, synchronously when a restart reopens the watch: so a restart that reopened anything shows
 * at once, with no wait.
 */
function countingKubeConfig(path: string): { kc: KubeConfig; requests: () => number } {
  const kc = loadKubeConfig(path);
  let requests = 0;
  const prepare = kc.applyToFetchOptions.bind(kc);
  kc.applyToFetchOptions = (opts) => ((requests += 1), prepare(opts));
  return { kc, requests: () => requests };
}

/** A `schedule` for the catalog whose restarts only the test runs: it sees each one asked for, and whether it was cancelled. */
function restartsRunByTest(): {
  restarts: Array<{ run: () => void; cancelled: boolean }>;
  schedule: (run: () => void, ms: number) => { cancel(): void };
  /** Resolves once the first restart is asked for. */
  asked: Promise<void>;
} {
  const restarts: Array<{ run: () => void; cancelled: boolean }> = [];
  let firstAsked: () => void = () => undefined;
  const asked = new Promise<void>((resolve) => (firstAsked = resolve));
  const schedule = (run: () => void): { cancel(): void } => {
    const restart = { run, cancelled: false };
    restarts.push(restart);
    firstAsked();
    return { cancel: () => (restart.cancelled = true) };
  };
  return { restarts, schedule, asked };
}
