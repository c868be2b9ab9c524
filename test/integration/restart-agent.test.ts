/**
 * Restarting the agent on the same state directory: the registry comes back from the log, pending
 * Secret syncs resume, rotation waits for a republish to hand over a token, and an agent killed
 * with SIGKILL in the middle of a 200-mount run recovers every acknowledged mount.
 */
import { spawn } from 'node:child_process';
import { access, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createCsiClient } from '../../src/adapters/grpc/index.js';
import { InMemoryVolumeMounter } from '../../src/adapters/fs/index.js';
import { createLogger } from '../../src/adapters/logging/logger.js';
import { compileAgentOptions } from '../../src/config/agent-options.js';
import type { AgentOptions } from '../../src/config/agent-options.js';
import { startLocalStack } from '../../src/emulators/local-stack.js';
import { Agent } from '../../src/main/agent.js';
import { localAgentOptions, startHarness } from '../support/agent-harness.js';
import type { AgentPlaces, Harness } from '../support/agent-harness.js';
import { seededRandom } from '../fixtures/eventlog/mount-script.js';
import { awsSpc } from '../support/kubelet-fixtures.js';

const NS = 'app';
/** Where the 200-mount run is SIGKILLed: seeded, so a failure can be replayed at the same point. */
const KILL_SEED = 1_337;
const KILL_AFTER = 60 + Math.floor(seededRandom(KILL_SEED)() * 100);
const KILL_POINT = `killed after ${KILL_AFTER} acknowledged mounts, seed ${KILL_SEED}`;
const REGION = 'us-east-1';
const ROOT = resolve(import.meta.dirname, '../..');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function eventually(check: () => void | Promise<void>, deadlineMs = 30_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function agentOptions(h: AgentPlaces, extra: AgentOptions): AgentOptions {
  return localAgentOptions(h, { mode: 'kubelet', metricsAddr: '', rotationInterval: '0', ...extra });
}

interface RestartWorld {
  h: Harness;
  mounter: InMemoryVolumeMounter;
  pods: Array<{ name: string; uid: string; volumeId: string; targetPath: string }>;
  publish(pod: RestartWorld['pods'][number]): Promise<void>;
  csi: ReturnType<typeof createCsiClient>;
}

/** Agent A on the kubelet door, one SPC syncing Secret `db` from secret `db` ("one"), and pods to publish. */
async function restartWorld(podNames: readonly string[], syncSecrets: boolean): Promise<RestartWorld> {
  const mounter = new InMemoryVolumeMounter();
  const h = await startHarness({ mounter, agent: { mode: 'kubelet', rotationInterval: '0', syncSecrets, metricsAddr: '' } });
  cleanups.push(() => h.stop());
  h.stack.addServiceAccount({ namespace: NS, name: 'web', roleArn: 'arn:aws:iam::111122223333:role/web', allow: { secrets: ['*'], batchGetSecretValue: true } });
  h.stack.aws.putSecret({ name: 'db', region: REGION, string: 'one' });
  h.stack.kube.apply(awsSpc({ name: 'spc', namespace: NS, region: REGION, objects: '- objectName: db\n  objectType: secretsmanager\n', secretObjects: [{ secretName: 'db', type: 'Opaque', data: [{ objectName: 'db', key: 'v' }] }] }));
  const csi = createCsiClient(h.csiEndpoint);
  cleanups.push(async () => csi.close());
  const pods = podNames.map((n) => {
    const uid = `uid-${n}`;
    return { name: `web-${n}`, uid, volumeId: `vol-${n}`, targetPath: join(h.dir, 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~csi', 's', 'mount') };
  });
  const publish = (p: RestartWorld['pods'][number]): Promise<void> =>
    csi.nodePublish({
      volumeId: p.volumeId,
      targetPath: p.targetPath,
      volumeContext: {
        secretProviderClass: 'spc',
        'csi.storage.k8s.io/pod.name': p.name,
        'csi.storage.k8s.io/pod.namespace': NS,
        'csi.storage.k8s.io/pod.uid': p.uid,
        'csi.storage.k8s.io/serviceAccount.name': 'web',
        'csi.storage.k8s.io/serviceAccount.tokens': h.stack.kubeletTokens({ namespace: NS, serviceAccount: 'web', podName: p.name, podUid: p.uid }),
      },
    });
  return { h, mounter, pods, publish, csi };
}

describe('agent restart on the same state directory', () => {
  it('restores the registry, resumes pending Secret syncs, and rotates again after a republish', async () => {
    // Agent A records mounts but does not sync (as if it died before syncing).
    const { h, mounter, pods, publish, csi } = await restartWorld(['a', 'b', 'c'], false);
    for (const p of pods) await publish(p);
    await csi.nodeUnpublish({ volumeId: pods[2]!.volumeId, targetPath: pods[2]!.targetPath });
    const before = h.agent.journal!.state;
    expect([...before.mounts.keys()].sort()).toEqual(['uid-a/vol-a', 'uid-b/vol-b']);
    expect(h.stack.kube.get('v1', 'Secret', NS, 'db')).toBeUndefined();
    await h.agent.stop();

    // Agent B: same state dir, sync on. The same mounter keeps the "tmpfs" mounts, as a real node would.
    const b = Agent.create(compileAgentOptions(agentOptions(h, { syncSecrets: true })), { logger: createLogger({ level: 'silent' }), mounter });
    await b.start();
    cleanups.push(async () => void (await b.stop()));
    expect([...b.journal!.state.mounts.keys()].sort()).toEqual(['uid-a/vol-a', 'uid-b/vol-b']);
    expect(b.journal!.state.mounts.get('uid-a/vol-a')?.objects).toEqual(before.mounts.get('uid-a/vol-a')?.objects);
    await eventually(() => {
      const s = h.stack.kube.get('v1', 'Secret', NS, 'db');
      expect(Buffer.from((s as { data?: Record<string, string> })?.data?.['v'] ?? '', 'base64').toString()).toBe('one');
      expect((s?.metadata.ownerReferences ?? []).map((o) => o.uid).sort()).toEqual(['uid-a', 'uid-b']);
    });

    // No token survived the restart: rotation waits until kubelet republishes.
    h.stack.aws.putSecret({ name: 'db', region: REGION, string: 'two' });
    const waiting = await b.rotation!.runCycle();
    expect(waiting).toMatchObject({ mounts: 0, waiting: 2, rewritten: [] });

    // kubelet's periodic republish of pod a hands over a fresh token (and already picks up "two").
    await publish(pods[0]!);
    expect(b.journal!.state.mounts.get('uid-a/vol-a')?.objects[0]?.version).not.toBe(before.mounts.get('uid-a/vol-a')?.objects[0]?.version);
    h.stack.aws.putSecret({ name: 'db', region: REGION, string: 'three' });
    const resumed = await b.rotation!.runCycle();
    expect(resumed).toMatchObject({ mounts: 1, waiting: 1, rewritten: ['uid-a/vol-a'] });
    await eventually(() => {
      const s = h.stack.kube.get('v1', 'Secret', NS, 'db');
      expect(Buffer.from((s as { data?: Record<string, string> })?.data?.['v'] ?? '', 'base64').toString()).toBe('three');
    });
  }, 90_000);

  it('sets a damaged log aside and starts empty; kubelet\'s republish records the mounts again, and rotation and Secret sync follow', async () => {
    const { h, mounter, pods, publish, csi } = await restartWorld(['a', 'b'], true);
    for (const p of pods) await publish(p);
    await h.agent.stop();

    // A disk error flips a byte in the first record; valid records follow, so it is not a torn tail.
    const logDir = join(h.dir, 'state', 'eventlog');
    const segment = join(logDir, (await readdir(logDir)).find((f) => f.startsWith('events-'))!);
    const text = await readFile(segment, 'utf8');
    expect(text).toContain('"name":"web-a"');
    await writeFile(segment, text.replace('"name":"web-a"', '"name":"web-A"'));

    const b = Agent.create(compileAgentOptions(agentOptions(h, { syncSecrets: true })), { logger: createLogger({ level: 'silent' }), mounter });
    await b.start();
    cleanups.push(async () => void (await b.stop()));
    expect(b.journal!.state.mounts.size).toBe(0);
    expect((await readdir(join(h.dir, 'state'))).filter((n) => n.startsWith('damaged-'))).toHaveLength(1);

    // kubelet republishes both pods: the mounts are known again, and rotation and Secret sync work on them.
    for (const p of pods) await publish(p);
    expect([...b.journal!.state.mounts.keys()].sort()).toEqual(['uid-a/vol-a', 'uid-b/vol-b']);
    h.stack.aws.putSecret({ name: 'db', region: REGION, string: 'two' });
    const cycle = await b.rotation!.runCycle();
    expect(cycle.mounts).toBe(2);
    expect([...cycle.rewritten].sort()).toEqual(['uid-a/vol-a', 'uid-b/vol-b']);
    await eventually(() => {
      const s = h.stack.kube.get('v1', 'Secret', NS, 'db');
      expect(Buffer.from((s as { data?: Record<string, string> })?.data?.['v'] ?? '', 'base64').toString()).toBe('two');
      expect((s?.metadata.ownerReferences ?? []).map((o) => o.uid).sort()).toEqual(['uid-a', 'uid-b']);
    });
    await csi.nodeUnpublish({ volumeId: pods[1]!.volumeId, targetPath: pods[1]!.targetPath });
    expect([...b.journal!.state.mounts.keys()]).toEqual(['uid-a/vol-a']);
    expect(await mounter.isMountPoint(pods[1]!.targetPath)).toBe(false);
  }, 90_000);

  it(`recovers every acknowledged mount and every pending Secret sync after SIGKILL in the middle of a 200-mount run (kill after ${KILL_AFTER} acks, seed ${KILL_SEED})`, async () => {
    const stack = await startLocalStack();
    cleanups.push(() => stack.stop());
    const dir = stack.dir;
    stack.addServiceAccount({ namespace: NS, name: 'web', roleArn: 'arn:aws:iam::111122223333:role/web', allow: { secrets: ['*'], batchGetSecretValue: true } });
    stack.aws.putSecret({ name: 'db', region: REGION, string: 'one' });
    stack.kube.apply(awsSpc({ name: 'spc', namespace: NS, region: REGION, objects: '- objectName: db\n  objectType: secretsmanager\n', secretObjects: [{ secretName: 'db', type: 'Opaque', data: [{ objectName: 'db', key: 'v' }] }] }));
    const csiEndpoint = `unix://${join(dir, 'csi', 'csi.sock')}`;
    const stateDir = join(dir, 'state');
    const options = agentOptions({ dir, stack, csiEndpoint, providerSocket: join(dir, 'unused.sock') }, { mode: 'kubelet', stateDir });
    const script = join(dir, 'agent-child.mts');
    const src = (rel: string): string => JSON.stringify(pathToFileURL(join(ROOT, rel)).href);
    await writeFile(
      script,
      [
        `import { Agent } from ${src('src/main/agent.ts')};`,
        `import { compileAgentOptions } from ${src('src/config/agent-options.ts')};`,
        `import { InMemoryVolumeMounter } from ${src('src/adapters/fs/index.ts')};`,
        `const agent = Agent.create(compileAgentOptions(JSON.parse(process.argv[2])), { mounter: new InMemoryVolumeMounter() });`,
        `await agent.start();`,
        `process.stdout.write('ready\\n');`,
        `setInterval(() => undefined, 1 << 30);`,
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(async () => void child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    for await (const line of createInterface({ input: child.stdout })) if (line === 'ready') break;

    const client = createCsiClient(csiEndpoint);
    cleanups.push(async () => client.close());
    const targetOf = (i: number): string => join(dir, 'kubelet', 'pods', `uid-${i}`, 'volumes', 'kubernetes.io~csi', 's', 'mount');
    const acked = new Set<string>();
    const killAfter = KILL_AFTER;
    let killed = false;
    const mountOne = async (i: number): Promise<void> => {
      try {
        await client.nodePublish({
          volumeId: `vol-${i}`,
          targetPath: targetOf(i),
          volumeContext: {
            secretProviderClass: 'spc',
            'csi.storage.k8s.io/pod.name': `web-${i}`,
            'csi.storage.k8s.io/pod.namespace': NS,
            'csi.storage.k8s.io/pod.uid': `uid-${i}`,
            'csi.storage.k8s.io/serviceAccount.name': 'web',
            'csi.storage.k8s.io/serviceAccount.tokens': stack.kubeletTokens({ namespace: NS, serviceAccount: 'web', podName: `web-${i}`, podUid: `uid-${i}` }),
          },
        });
        acked.add(`uid-${i}/vol-${i}`);
        if (acked.size >= killAfter && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      } catch {
        // Calls in flight when the agent died fail: unacknowledged, kubelet would retry.
      }
    };
    const queue = Array.from({ length: 200 }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) await mountOne(i);
      }),
    );
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
    expect(killed, `${stderr} (${KILL_POINT})`).toBe(true);

    const restarted = Agent.create(compileAgentOptions(options), { logger: createLogger({ level: 'silent' }), mounter: new InMemoryVolumeMounter() });
    await restarted.start();
    cleanups.push(async () => void (await restarted.stop()));
    const registry = new Set(restarted.journal!.state.mounts.keys());
    // Every acknowledged mount is in the registry; anything more was at least written to disk.
    for (const key of acked) expect(registry.has(key), `${key} (${KILL_POINT})`).toBe(true);
    for (const key of registry) {
      const i = Number(key.slice('uid-'.length, key.indexOf('/')));
      await expect(access(join(targetOf(i), 'db'))).resolves.toBeUndefined();
    }
    // The Secret sync the child may not have finished: owners are exactly the recovered mounts' pods.
    const expectedOwners = [...registry].map((k) => k.slice(0, k.indexOf('/'))).sort();
    await eventually(() => {
      const secret = stack.kube.get('v1', 'Secret', NS, 'db');
      expect((secret?.metadata.ownerReferences ?? []).map((o) => o.uid).sort()).toEqual(expectedOwners);
    }, 60_000);
    await eventually(() => expect(restarted.secretSync!.pending()).toEqual([]));
  }, 180_000);
});
