/**
 * The CSI Identity `Probe` (what the livenessprobe sidecar and the registrar ask) agrees with the
 * agent's readiness: ready while running, not ready while draining a mount that is still in flight,
 * and the in-flight mount still completes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TmpfsMounter, cleanupTarget } from '../../src/adapters/fs/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { filesystemAt, startFakeKubelet } from '../support/kubelet.js';
import type { FakeKubelet, KubeletPod } from '../support/kubelet.js';
import { applyNode, seedShopFleet } from '../support/kubelet-fixtures.js';
import { mountCapability } from '../support/privileges.js';

const MOUNT = mountCapability();

/** A gate on the AWS emulator's responses: closed, every response waits; `entered` tells one did. */
function responseGate(): { delay: (ms: number) => Promise<void>; close(): void; open(): void; entered: Promise<void> } {
  let closed = false;
  let release: () => void = () => undefined;
  let released = Promise.resolve();
  let signalEntered: () => void = () => undefined;
  const entered = new Promise<void>((resolve) => (signalEntered = resolve));
  return {
    delay: () => {
      if (!closed) return Promise.resolve();
      signalEntered();
      return released;
    },
    close() {
      closed = true;
      released = new Promise<void>((resolve) => (release = resolve));
    },
    open() {
      closed = false;
      release();
    },
    entered,
  };
}

/** The HTTP readiness endpoint's verdict (what the kubelet's readinessProbe on the pod sees). */
async function readyz(harness: Harness): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${harness.agent.metricsPort}/readyz`);
  await res.body?.cancel();
  return res.status === 200;
}

let h: Harness | undefined;
let kubelet: FakeKubelet | undefined;
const leftovers: string[] = [];

afterEach(async () => {
  kubelet?.close();
  // The agent stopped inside the test, so nothing will unpublish for us: unmount before the temp dir goes.
  const mounter = new TmpfsMounter();
  for (const target of leftovers.splice(0)) await cleanupTarget(target, mounter);
  await h?.stop();
  h = undefined;
  kubelet = undefined;
});

describe.skipIf(!MOUNT.capable)(`CSI Probe and readiness${MOUNT.capable ? '' : ` (skipped: ${MOUNT.reason})`}`, () => {
  it('Probe says ready while running and not ready while draining, as readiness does', async () => {
    const gate = responseGate();
    h = await startHarness({ stack: { aws: { latencyMs: 1, delay: gate.delay } } });
    applyNode(h.stack, 'node-1');
    const [pod] = seedShopFleet(h.stack, 1).pods as [KubeletPod];
    kubelet = startFakeKubelet({ stack: h.stack, csiEndpoint: h.csiEndpoint, dir: h.dir });
    leftovers.push(kubelet.targetPath(pod));

    expect(h.agent.ready().ready).toBe(true);
    expect(await readyz(h)).toBe(true);
    expect(await kubelet.client.probe()).toEqual({ ready: true });

    gate.close();
    const publishing = kubelet.publish(pod);
    await gate.entered;
    const stopping = h.agent.stop();

    expect(h.agent.ready().ready).toBe(false);
    expect(await readyz(h)).toBe(false);
    expect(await kubelet.client.probe()).toEqual({ ready: false });

    gate.open();
    await publishing;
    expect(await filesystemAt(kubelet.targetPath(pod))).toBe('tmpfs');
    await expect(stopping).resolves.toEqual({ drained: true });
  });
});
