/**
 * /healthz, /readyz and the CSI Probe: ready only while both doors serve, and the Probe kubelet's
 * liveness sidecar calls always agrees with /readyz — including while a SIGTERM drain lets an
 * in-flight mount finish.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCsiClient, createProviderClient } from '../../src/adapters/grpc/index.js';
import { InMemoryVolumeMounter } from '../../src/adapters/fs/in-memory-volume-mounter.js';
import { startHarness } from '../support/agent-harness.js';
import { mountCapability } from '../support/privileges.js';
import type { Harness } from '../support/agent-harness.js';
import { APP, addPod, eventually, httpGet, providerMountRequest, seedApp } from './world.js';

/** A gate on every AWS emulator response: calls wait until `open()`. */
function awsGate(): { delay: (ms: number) => Promise<void>; waiting: () => number; open: () => void } {
  let release!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  let waiting = 0;
  return {
    delay: () => {
      waiting += 1;
      return opened;
    },
    waiting: () => waiting,
    open: () => release(),
  };
}

/** A kubeconfig whose API server refuses every connection (nothing listens on loopback port 1). */
function deadKubeconfig(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'secretlet-deadkc-')), 'kubeconfig');
  writeFileSync(
    path,
    'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]\n' +
      'contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\nusers: [{name: u, user: {token: t}}]\n',
  );
  return path;
}

const MOUNT = mountCapability();

describe('health endpoints and CSI Probe', () => {
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('reports live and ready with every check true once both doors are bound, and Probe agrees', async () => {
    h = await startHarness({ mounter: new InMemoryVolumeMounter() });
    const port = h.agent.metricsPort!;
    expect(await httpGet(port, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    const ready = await httpGet(port, '/readyz');
    expect(ready.status).toBe(200);
    const parsed = JSON.parse(ready.body) as { ready: boolean; checks: Record<string, boolean> };
    expect(parsed.ready).toBe(true);
    expect(parsed.checks).toMatchObject({ doors: true, eventLog: true, apiServer: true, running: true });
    const csi = createCsiClient(h.csiEndpoint);
    try {
      expect(await csi.probe()).toEqual({ ready: true });
    } finally {
      csi.close();
    }
  });

  it('stays not ready (503, apiServer false, Probe false) while the API server does not answer', async () => {
    // The Kubernetes emulator goes away before the agent starts; the agent reads its kubeconfig anyway.
    h = await startHarness({ mounter: new InMemoryVolumeMounter(), agent: { kubeconfig: deadKubeconfig() } });
    const port = h.agent.metricsPort!;
    const ready = await httpGet(port, '/readyz');
    expect(ready.status).toBe(503);
    expect((JSON.parse(ready.body) as { checks: Record<string, boolean> }).checks).toMatchObject({ doors: true, apiServer: false });
    const csi = createCsiClient(h.csiEndpoint);
    try {
      expect(await csi.probe()).toEqual({ ready: false });
    } finally {
      csi.close();
    }
  });

  it('turns not ready (503, Probe false) while draining, and the in-flight mount still completes', async () => {
    const gate = awsGate();
    h = await startHarness({ mounter: new InMemoryVolumeMounter(), stack: { aws: { latencyMs: 1, delay: gate.delay } }, agent: { drainTimeout: '60s' } });
    seedApp(h.stack);
    h.stack.aws.putSecret({ name: 'ops/slow', region: APP.region, string: 'slow-value' });
    const port = h.agent.metricsPort!;
    const provider = createProviderClient(h.providerSocket);
    const csi = createCsiClient(h.csiEndpoint);
    try {
      const req = await providerMountRequest({ stack: h.stack, dir: h.dir, pod: addPod(h.stack), spc: 'slow', objects: '- objectName: ops/slow\n  objectType: secretsmanager\n' });
      const mount = provider.mount(req);
      await eventually(() => (gate.waiting() > 0 ? true : undefined), 'the mount to reach the AWS endpoint');
      const stopped = h.agent.stop();
      await eventually(() => (h!.agent.state === 'draining' ? true : undefined), 'the agent to start draining');

      const during = await httpGet(port, '/readyz');
      expect(during.status).toBe(503);
      expect((JSON.parse(during.body) as { checks: Record<string, boolean> }).checks['running']).toBe(false);
      expect(await csi.probe()).toEqual({ ready: false });
      // Liveness is not readiness: the process is fine, it is just leaving.
      expect((await httpGet(port, '/healthz')).status).toBe(200);

      gate.open();
      const res = await mount;
      expect(res.objectVersion.map((v) => v.id)).toEqual(['ops_slow']); // '/' translated to '_', as ASCP does
      expect(await stopped).toEqual({ drained: true });
      expect(h.agent.ready().ready).toBe(false);
    } finally {
      gate.open();
      provider.close();
      csi.close();
    }
  });
  it.skipIf(!MOUNT.capable)(
    `fails liveness (503, eventLog false) once a full disk has failed the event log, and stays failed after space returns${MOUNT.capable ? '' : ` (skipped: ${MOUNT.reason})`}`,
    async () => {
      // The state dir on a small tmpfs: the log opens, then a filler takes every free byte.
      const stateDir = mkdtempSync(join(tmpdir(), 'secretlet-state-full-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', stateDir]);
      try {
        h = await startHarness({ mounter: new InMemoryVolumeMounter(), agent: { stateDir } });
        seedApp(h.stack);
        h.stack.aws.putSecret({ name: 'ops/full', region: APP.region, string: 'value' });
        const port = h.agent.metricsPort!;
        expect((await httpGet(port, '/healthz')).status).toBe(200);
        mkdirSync(join(stateDir, 'filler'));
        try {
          for (let i = 0; ; i++) writeFileSync(join(stateDir, 'filler', String(i)), Buffer.alloc(4096));
        } catch (err) {
          expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
        }

        const provider = createProviderClient(h.providerSocket);
        try {
          const req = await providerMountRequest({ stack: h.stack, dir: h.dir, pod: addPod(h.stack), spc: 'full', objects: '- objectName: ops/full\n  objectType: secretsmanager\n' });
          await expect(provider.mount(req)).rejects.toThrow(/event log|ENOSPC|no space/i);
        } finally {
          provider.close();
        }
        const live = await httpGet(port, '/healthz');
        expect(live.status).toBe(503);
        expect(JSON.parse(live.body)).toEqual({ live: false, checks: { eventLog: false } });
        const ready = await httpGet(port, '/readyz');
        expect(ready.status).toBe(503);
        expect((JSON.parse(ready.body) as { checks: Record<string, boolean> }).checks['eventLog']).toBe(false);

        // Space back: the log stays refused (its tail may be torn) until a restart reopens it.
        rmSync(join(stateDir, 'filler'), { recursive: true });
        expect((await httpGet(port, '/healthz')).status).toBe(503);
      } finally {
        await h?.stop();
        h = undefined;
        execFileSync('umount', [stateDir]);
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  );
});
