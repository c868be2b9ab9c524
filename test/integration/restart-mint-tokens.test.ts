/**
 * `--mint-tokens` after an agent restart: mounts replayed from the event log have no token in
 * memory. With the opt-in, the first rotation cycle mints a pod-bound token (TokenRequest) per
 * restored kubelet-door mount and rotates it without any republish; without it, the mounts keep
 * waiting for kubelet and the API server sees no TokenRequest.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryVolumeMounter, LocalTargetDirectory, TmpfsMounter } from '../../src/adapters/fs/index.js';
import { createCsiClient } from '../../src/adapters/grpc/index.js';
import { createLogger } from '../../src/adapters/logging/logger.js';
import { compileAgentOptions } from '../../src/config/agent-options.js';
import type { VolumeMounter } from '../../src/core/ports/volume-mounter.js';
import type { KubeObject } from '../../src/emulators/kube/index.js';
import { Agent } from '../../src/main/agent.js';
import { localAgentOptions, startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { mountCapability } from '../support/privileges.js';
import { awsSpc } from '../support/kubelet-fixtures.js';

const NS = 'app';
const REGION = 'us-east-1';
const TOKEN_REQUEST = 'create serviceaccounts/token';
// Real tmpfs as root; elsewhere the in-memory mounter (the files still land on disk).
const MOUNT = mountCapability();

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface Restored {
  h: Harness;
  mounter: VolumeMounter;
  targets: string[];
}

/** Agent A mounts two pods through the CSI door, then stops: the log holds both mounts, memory nothing. */
async function mountThenStop(): Promise<Restored> {
  const mounter: VolumeMounter = MOUNT.capable ? new TmpfsMounter({ rootMode: 0o755 }) : new InMemoryVolumeMounter();
  const h = await startHarness({ mounter, agent: { mode: 'kubelet', rotationInterval: '0', syncSecrets: false, metricsAddr: '' } });
  cleanups.push(() => h.stop());
  h.stack.addServiceAccount({ namespace: NS, name: 'web', roleArn: 'arn:aws:iam::111122223333:role/web', allow: { secrets: ['*'], batchGetSecretValue: true } });
  h.stack.aws.putSecret({ name: 'db', region: REGION, string: 'one' });
  h.stack.kube.apply(awsSpc({ name: 'spc', namespace: NS, region: REGION, objects: '- objectName: db\n  objectType: secretsmanager\n' }));
  const csi = createCsiClient(h.csiEndpoint);
  cleanups.push(async () => csi.close());
  const targets: string[] = [];
  for (const n of ['a', 'b']) {
    // The TokenRequest is bound to the pod: it must exist, with the uid kubelet reported.
    const pod = h.stack.kube.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `web-${n}`, namespace: NS },
      spec: { serviceAccountName: 'web', nodeName: 'node-1', containers: [{ name: 'app', image: 'app' }] },
    } as KubeObject);
    const uid = pod.metadata.uid ?? '';
    const targetPath = join(h.dir, 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~csi', 's', 'mount');
    targets.push(targetPath);
    // Registered now so a failing test still unmounts its tmpfs before the temp dir goes.
    cleanups.push(() => new LocalTargetDirectory({ mounter }).cleanup(targetPath));
    await csi.nodePublish({
      volumeId: `vol-${n}`,
      targetPath,
      volumeContext: {
        secretProviderClass: 'spc',
        'csi.storage.k8s.io/pod.name': `web-${n}`,
        'csi.storage.k8s.io/pod.namespace': NS,
        'csi.storage.k8s.io/pod.uid': uid,
        'csi.storage.k8s.io/serviceAccount.name': 'web',
        'csi.storage.k8s.io/serviceAccount.tokens': h.stack.kubeletTokens({ namespace: NS, serviceAccount: 'web', podName: `web-${n}`, podUid: uid }),
      },
    });
  }
  for (const t of targets) expect(await readFile(join(t, 'db'), 'utf8')).toBe('one');
  await h.agent.stop();
  return { h, mounter, targets };
}

async function restart(r: Restored, mintTokens: boolean): Promise<Agent> {
  const { h } = r;
  const agent = Agent.create(
    compileAgentOptions(localAgentOptions(h, { mode: 'kubelet', metricsAddr: '', rotationInterval: '0', syncSecrets: false, mintTokens })),
    { logger: createLogger({ level: 'silent' }), mounter: r.mounter },
  );
  await agent.start();
  cleanups.push(async () => void (await agent.stop()));
  expect(agent.journal!.state.mounts.size).toBe(2);
  return agent;
}

describe(`restored mounts with --mint-tokens (${MOUNT.capable ? 'tmpfs' : `in-memory mounter: ${MOUNT.reason}`})`, () => {
  it('rotates restored mounts with a minted token, without any republish', async () => {
    const r = await mountThenStop();
    const agent = await restart(r, true);
    r.h.stack.kube.counters.reset();

    r.h.stack.aws.putSecret({ name: 'db', region: REGION, string: 'two' });
    const first = await agent.rotation!.runCycle();
    expect(first).toMatchObject({ mounts: 2, waiting: 0, failed: [] });
    expect(first.rejoined).toHaveLength(2);
    expect(first.rewritten).toHaveLength(2);
    for (const t of r.targets) expect(await readFile(join(t, 'db'), 'utf8')).toBe('two');
    // One pod-bound TokenRequest per restored mount.
    expect(r.h.stack.kube.counters.byVerbResource()[TOKEN_REQUEST]).toBe(2);

    // The minted tokens are kept (valid for an hour): the next cycle mints nothing and still rotates.
    r.h.stack.aws.putSecret({ name: 'db', region: REGION, string: 'three' });
    const second = await agent.rotation!.runCycle();
    expect(second).toMatchObject({ mounts: 2, waiting: 0, rejoined: [], failed: [] });
    expect(second.rewritten).toHaveLength(2);
    for (const t of r.targets) expect(await readFile(join(t, 'db'), 'utf8')).toBe('three');
    expect(r.h.stack.kube.counters.byVerbResource()[TOKEN_REQUEST]).toBe(2);
  }, 90_000);

  it('without the opt-in, restored mounts keep waiting for a republish and no token is requested', async () => {
    const r = await mountThenStop();
    const agent = await restart(r, false);
    r.h.stack.kube.counters.reset();

    r.h.stack.aws.putSecret({ name: 'db', region: REGION, string: 'two' });
    const cycle = await agent.rotation!.runCycle();
    expect(cycle).toMatchObject({ mounts: 0, waiting: 2, rejoined: [], rewritten: [] });
    for (const t of r.targets) expect(await readFile(join(t, 'db'), 'utf8')).toBe('one');
    expect(r.h.stack.kube.counters.byVerbResource()[TOKEN_REQUEST]).toBeUndefined();
  }, 90_000);
});
