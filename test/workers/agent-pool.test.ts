import { mkdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryVolumeMounter, isTimestampDirName } from '../../src/adapters/fs/index.js';
import { createCsiClient, createProviderClient } from '../../src/adapters/grpc/index.js';
import type { AgentOptions } from '../../src/config/agent-options.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { awsSpc } from '../support/kubelet-fixtures.js';

const NS = 'shop';
const SA = 'web';
const REGION = 'us-east-1';
const OBJECTS = `- objectName: shop/db
  objectType: secretsmanager
  jmesPath:
    - path: user
      objectAlias: db-user
- objectName: shop/api
  objectType: secretsmanager
- objectName: /shop/url
  objectType: ssmparameter
`;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function world(agent: AgentOptions): Promise<Harness> {
  const h = await startHarness({ agent, mounter: new InMemoryVolumeMounter() });
  harness = h;
  h.stack.addServiceAccount({
    namespace: NS,
    name: SA,
    roleArn: 'arn:aws:iam::111122223333:role/web',
    allow: { secrets: ['shop/*'], parameters: ['/shop/*'], batchGetSecretValue: true },
  });
  h.stack.aws.putSecret({ name: 'shop/db', region: REGION, string: '{"user":"app"}' });
  h.stack.aws.putSecret({ name: 'shop/api', region: REGION, string: 'k-1' });
  h.stack.aws.putParameter({ name: '/shop/url', region: REGION, value: 'https://shop' });
  return h;
}

function podAttributes(h: Harness, pod: string): Record<string, string> {
  return {
    'csi.storage.k8s.io/pod.name': pod,
    'csi.storage.k8s.io/pod.namespace': NS,
    'csi.storage.k8s.io/pod.uid': `uid-${pod}`,
    'csi.storage.k8s.io/serviceAccount.name': SA,
    'csi.storage.k8s.io/serviceAccount.tokens': h.stack.kubeletTokens({ namespace: NS, serviceAccount: SA, podName: pod, podUid: `uid-${pod}` }),
  };
}

async function providerMount(h: Harness, pod: string): Promise<string> {
  const target = join(h.dir, 'targets', pod);
  await mkdir(target, { recursive: true });
  const client = createProviderClient(h.providerSocket);
  try {
    await client.mount({
      attributes: JSON.stringify({ region: REGION, objects: OBJECTS, ...podAttributes(h, pod) }),
      secrets: '{}',
      targetPath: target,
      permission: '420',
      currentObjectVersion: [],
    });
  } finally {
    client.close();
  }
  return target;
}

describe('agent with a worker pool of one thread', () => {
  it('mounts through the provider door with files rendered from the worker-planned mount', async () => {
    const h = await world({ poolSize: 1 });
    const target = await providerMount(h, 'web-0');
    expect(await readFile(join(target, 'db-user'), 'utf8')).toBe('app');
    expect(await readFile(join(target, 'shop_api'), 'utf8')).toBe('k-1');
    expect(await readFile(join(target, '_shop_url'), 'utf8')).toBe('https://shop');
    // Written by the pool thread's provider writer: flat files with the requested permission (420 = 0644).
    expect((await stat(join(target, 'db-user'))).mode & 0o777).toBe(0o644);
    const first = await stat(join(target, 'shop_api'));
    // A remount with the same values is a no-op through the thread too: the file is not replaced.
    await providerMount(h, 'web-0');
    expect((await stat(join(target, 'shop_api'))).ino).toBe(first.ino);
  });

  it('mounts through the CSI door and reports a bad object as INVALID_ARGUMENT naming the field', async () => {
    const h = await world({ poolSize: 1 });
    h.stack.kube.apply(awsSpc({ name: 'shop', namespace: NS, region: REGION, objects: OBJECTS }));
    h.stack.kube.apply(awsSpc({ name: 'broken', namespace: NS, region: REGION, objects: '- objectName: shop/db\n  objectType: vault\n' }));
    const csi = createCsiClient(h.csiEndpoint);
    try {
      const targetPath = join(h.dir, 'kubelet', 'pods', 'uid-web-1', 'volumes', 'kubernetes.io~csi', 'secrets', 'mount');
      await csi.nodePublish({ volumeId: 'v1', targetPath, volumeContext: { secretProviderClass: 'shop', ...podAttributes(h, 'web-1') } });
      expect(await readFile(join(targetPath, 'db-user'), 'utf8')).toBe('app');
      // The kubelet-style layout from the pool thread's atomic writer: files behind the ..data swap.
      expect(isTimestampDirName(await readlink(join(targetPath, '..data')))).toBe(true);
      expect(await readlink(join(targetPath, 'db-user'))).toBe('..data/db-user');

      const badTarget = join(h.dir, 'kubelet', 'pods', 'uid-web-2', 'volumes', 'kubernetes.io~csi', 'secrets', 'mount');
      const failure = await csi.nodePublish({ volumeId: 'v2', targetPath: badTarget, volumeContext: { secretProviderClass: 'broken', ...podAttributes(h, 'web-2') } }).catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: 3 /* INVALID_ARGUMENT */ });
      expect(String((failure as { details?: string }).details)).toContain('objects[0]');
    } finally {
      csi.close();
    }
  });
});

describe('rotation through a pool with a small queue', () => {
  it('rewrites every changed mount of a cycle without filling the queue the doors need', async () => {
    // 40 mounts change in one cycle; the queue takes 8 jobs. Each rewrite is a pool job, so all 40
    // at once would overflow it: rewrites failing with WorkerQueueFull, new mounts refused meanwhile.
    const h = await world({ poolSize: 1, poolMaxQueue: 8, rotationInterval: '1h' });
    const targets: string[] = [];
    for (let i = 0; i < 40; i++) targets.push(await providerMount(h, `web-${i}`));
    h.stack.aws.putSecret({ name: 'shop/api', region: REGION, string: 'k-2' });
    const cycle = h.agent.rotation!.runCycle();
    const during = await Promise.allSettled([providerMount(h, 'late-0'), providerMount(h, 'late-1'), providerMount(h, 'late-2')]);
    const report = await cycle;
    expect(report.failed).toEqual([]);
    expect(report.rewritten).toHaveLength(40);
    expect(during.map((d) => d.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    for (const target of targets) expect(await readFile(join(target, 'shop_api'), 'utf8')).toBe('k-2');
  });
});

describe('agent fetch strategies (benchmark option)', () => {
  it('per-mount makes one credential call and one GetSecretValue per secret for every mount; secretlet shares them', async () => {
    const perMount = await world({ poolSize: 0, fetchStrategy: 'per-mount' });
    await providerMount(perMount, 'a');
    await providerMount(perMount, 'b');
    const upstream = perMount.stack.aws.counters.byAction();
    expect(upstream).toEqual({ AssumeRoleWithWebIdentity: 2, GetSecretValue: 4, GetParameters: 2 });
    await perMount.stop();
    harness = undefined;

    const ours = await world({ poolSize: 0 });
    await providerMount(ours, 'a');
    await providerMount(ours, 'b');
    const counts = ours.stack.aws.counters.byAction();
    expect(counts['AssumeRoleWithWebIdentity']).toBe(1);
    expect(counts['GetSecretValue'] ?? 0).toBe(0);
    expect(counts['BatchGetSecretValue']).toBe(2);
  });
});
