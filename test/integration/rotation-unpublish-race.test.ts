/**
 * NodeUnpublishVolume and a rotation rewrite of the same volume never overlap: the agent shares one
 * per-target lock between the kubelet door's writer and the target cleanup, and a rewrite that
 * waited for a cleanup finds its target unmounted and touches nothing. Without that, a rewrite
 * landing between unmount and rmdir put the pod's secrets into kubelet's directory on the node's
 * disk and the unpublish failed with ENOTEMPTY. Real agent, CSI door, both emulators; the mounter
 * starts a rotation cycle from inside unmount().
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryVolumeMounter } from '../../src/adapters/fs/index.js';
import { TargetLocks } from '../../src/adapters/fs/target-locks.js';
import { createLogger } from '../../src/adapters/logging/logger.js';
import { compileAgentOptions } from '../../src/config/agent-options.js';
import { startLocalStack } from '../../src/emulators/local-stack.js';
import type { LocalStack } from '../../src/emulators/local-stack.js';
import { Agent } from '../../src/main/agent.js';
import type { RotationCycleReport } from '../../src/main/rotation-reconciler.js';
import { localAgentOptions } from '../support/agent-harness.js';
import { startFakeKubelet } from '../support/kubelet.js';
import type { FakeKubelet, KubeletPod } from '../support/kubelet.js';
import { applySpc, awsSpc } from '../support/kubelet-fixtures.js';

const NS = 'race';
const REGION = 'us-east-1';
const pod: KubeletPod = { namespace: NS, name: 'app', uid: '0000000c-57a7-4000-8000-000000000001', serviceAccount: 'app', secretProviderClass: 'raced' };
// With pathTranslation False the file is app/key: the atomic writer creates a directory for it.
const OBJECTS = ['- objectName: app/key', '  objectType: secretsmanager', ''].join('\n');

/** TargetLocks that tells when a task for a target has to wait behind another one. */
class WatchedLocks extends TargetLocks {
  readonly #busy = new Map<string, number>();
  #waiter: { key: string; notify: () => void } | undefined;

  /** Settles when the next task for `target` is queued behind one that holds the lock. */
  queuedBehind(target: string): Promise<void> {
    return new Promise((notify) => (this.#waiter = { key: resolve(target), notify }));
  }

  override async run<T>(target: string, task: () => Promise<T>): Promise<T> {
    const key = resolve(target);
    const held = this.#busy.get(key) ?? 0;
    this.#busy.set(key, held + 1);
    if (held > 0 && this.#waiter?.key === key) this.#waiter.notify();
    try {
      return await super.run(target, task);
    } finally {
      const left = (this.#busy.get(key) ?? 1) - 1;
      if (left === 0) this.#busy.delete(key);
      else this.#busy.set(key, left);
    }
  }
}

/**
 * Unmounts only after `during()` (armed once) has either finished or is waiting for the target's
 * lock: a write that does not wait lands while the target is half torn down.
 */
class RacingMounter extends InMemoryVolumeMounter {
  during: (() => { done: Promise<unknown>; waiting: Promise<void> }) | undefined;

  override async unmount(target: string): Promise<void> {
    const run = this.during?.();
    this.during = undefined;
    if (run !== undefined) await Promise.race([run.done, run.waiting]);
    await super.unmount(target);
  }
}

describe('unpublish during a rotation rewrite', () => {
  let dir: string;
  let stack: LocalStack;
  let agent: Agent;
  let kubelet: FakeKubelet;
  const locks = new WatchedLocks();
  const mounter = new RacingMounter();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secretlet-it-'));
    stack = await startLocalStack({ dir });
    const providerSocket = join(dir, 'provider', 'aws.sock');
    const csiEndpoint = `unix://${join(dir, 'csi', 'csi.sock')}`;
    agent = Agent.create(compileAgentOptions(localAgentOptions({ dir, stack, csiEndpoint, providerSocket }, { mode: 'kubelet', syncSecrets: false })), {
      logger: createLogger({ level: 'silent' }),
      mounter,
      targetLocks: locks,
    });
    await agent.start();
    stack.addServiceAccount({ namespace: NS, name: 'app', roleArn: `arn:aws:iam::${stack.aws.accountId}:role/app`, allow: { secrets: ['app/*'], batchGetSecretValue: true } });
    stack.aws.putSecret({ name: 'app/key', region: REGION, string: 'v1', versionId: 'key-version-1' });
    applySpc(stack, awsSpc({ name: 'raced', namespace: NS, region: REGION, objects: OBJECTS, parameters: { pathTranslation: 'False' } }));
    kubelet = startFakeKubelet({ stack, csiEndpoint, dir });
  });

  afterEach(async () => {
    kubelet?.close();
    await agent?.stop();
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('removes the target and leaves no file when a rewrite of it starts during unmount', async () => {
    await kubelet.publish(pod);
    expect(await kubelet.readFile(pod, 'app/key')).toBe('v1');
    const target = kubelet.targetPath(pod);
    stack.aws.putSecret({ name: 'app/key', region: REGION, string: 'v2', versionId: 'key-version-2' });

    let cycle: Promise<RotationCycleReport> | undefined;
    let rewriteWaited = false;
    mounter.during = () => {
      const waiting = locks.queuedBehind(target).then(() => {
        rewriteWaited = true;
      });
      cycle = agent.rotation!.runCycle();
      return { done: cycle, waiting };
    };
    await kubelet.unpublish(pod);
    const report = await cycle!;

    expect(rewriteWaited).toBe(true); // the cycle did try to rewrite the volume, and waited for the cleanup

    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dirname(target))).toEqual([]);
    expect(report.rewritten).toEqual([]);
    expect(report.failed).toEqual([]);
    expect(agent.journal!.state.mounts.size).toBe(0);
  });
});
