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
    const sockets = new Set<Socket>();
    let watches = 0;
    let openWatches = 0;
    const { certPem, keyPem } = selfSignedCertificate({ commonName: 'held', hosts: ['127.0.0.1'] });
    const server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
      if (req.url?.includes('watch=true')) {
        watches += 1;
        openWatches += 1;
        res.on('close', () => (openWatches -= 1));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(''); // a watch stays open until the client closes it
        return;
      }
      held.push(res);
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
    try {
      const catalog = new WatchedSpcCatalog(loadKubeConfig(config));
      const outcome = catalog.start().then(
        () => 'resolved',
        (e: unknown) => (e as Error).message,
      );
      await expect.poll(() => held.length).toBe(1);
      await catalog.stop();
      held[0]!.writeHead(200, { 'content-type': 'application/json' });
      held[0]!.end(JSON.stringify({ apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClassList', metadata: { resourceVersion: '1' }, items: [] }));
      expect(await outcome).toBe('the SecretProviderClass catalog was stopped while starting');
      // Whatever watch the informer opened after its LIST is closed again, and none is reopened:
      // nothing keeps a stopping agent alive. (Idle keep-alive sockets do not: Node unrefs them.)
      await expect.poll(() => openWatches, { timeout: 5000 }).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // past the catalog's 1 s restart delay
      expect(openWatches).toBe(0);
      expect(watches).toBeLessThanOrEqual(1);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
