/**
 * One rotation cycle over 100 pods x 10 objects from 10 service accounts, 3 secrets changed: AWS is
 * asked once per service account (batched), only the affected mounts are rewritten, and a reader
 * racing the rewrite never sees old and new files mixed in one mount.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsiClient } from '../../src/adapters/grpc/index.js';
import type { CsiClient } from '../../src/adapters/grpc/index.js';
import { InMemoryVolumeMounter, readMountedFiles } from '../../src/adapters/fs/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { startConsistencyReader } from '../support/consistency-reader.js';
import { awsSpc } from '../support/kubelet-fixtures.js';

const NS = 'fleet';
const REGION = 'us-east-1';
const ACCOUNTS = 10;
const PODS_PER_ACCOUNT = 10;
const SECRETS = 6;
const PARAMETERS = 4;

interface Mounted {
  account: number;
  key: string;
  targetPath: string;
}

let h: Harness;
let csi: CsiClient;
const mounts: Mounted[] = [];

function objectsYaml(i: number): string {
  const lines: string[] = [];
  for (let s = 0; s < SECRETS; s += 1) lines.push(`- objectName: s${i}-${s}\n  objectType: secretsmanager`);
  for (let p = 0; p < PARAMETERS; p += 1) lines.push(`- objectName: p${i}-${p}\n  objectType: ssmparameter`);
  return lines.join('\n') + '\n';
}

beforeAll(async () => {
  h = await startHarness({ mounter: new InMemoryVolumeMounter(), agent: { rotationInterval: '0', mode: 'kubelet', syncSecrets: false } });
  csi = createCsiClient(h.csiEndpoint);
  for (let i = 0; i < ACCOUNTS; i += 1) {
    h.stack.addServiceAccount({ namespace: NS, name: `sa${i}`, roleArn: `arn:aws:iam::111122223333:role/sa${i}`, allow: { secrets: [`s${i}-*`], parameters: [`p${i}-*`], batchGetSecretValue: true } });
    for (let s = 0; s < SECRETS; s += 1) h.stack.aws.putSecret({ name: `s${i}-${s}`, region: REGION, string: `v1:s${i}-${s}` });
    for (let p = 0; p < PARAMETERS; p += 1) h.stack.aws.putParameter({ name: `p${i}-${p}`, region: REGION, value: `v1:p${i}-${p}` });
    h.stack.kube.apply(awsSpc({ name: `spc${i}`, namespace: NS, region: REGION, objects: objectsYaml(i) }));
  }
  const jobs: Array<() => Promise<void>> = [];
  for (let i = 0; i < ACCOUNTS; i += 1) {
    for (let n = 0; n < PODS_PER_ACCOUNT; n += 1) {
      const name = `pod-${i}-${n}`;
      const uid = `uid-${i}-${n}`;
      const targetPath = join(h.dir, 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~csi', 'secrets', 'mount');
      mounts.push({ account: i, key: `${uid}/vol-${name}`, targetPath });
      jobs.push(() =>
        csi.nodePublish({
          volumeId: `vol-${name}`,
          targetPath,
          volumeContext: {
            secretProviderClass: `spc${i}`,
            'csi.storage.k8s.io/pod.name': name,
            'csi.storage.k8s.io/pod.namespace': NS,
            'csi.storage.k8s.io/pod.uid': uid,
            'csi.storage.k8s.io/serviceAccount.name': `sa${i}`,
            'csi.storage.k8s.io/serviceAccount.tokens': h.stack.kubeletTokens({ namespace: NS, serviceAccount: `sa${i}`, podName: name, podUid: uid }),
          },
        }),
      );
    }
  }
  // 10 at a time, like kubelet's parallel pod starts.
  for (let k = 0; k < jobs.length; k += 10) await Promise.all(jobs.slice(k, k + 10).map((j) => j()));
}, 180_000);

afterAll(async () => {
  csi?.close();
  await h?.stop();
});

describe('rotation cycle cost', () => {
  it('fetches each object once per service account, batched, and rewrites only the affected mounts, never mixed', async () => {
    expect(h.agent.journal!.state.mounts.size).toBe(ACCOUNTS * PODS_PER_ACCOUNT);
    // A first cycle with nothing changed rewrites nothing.
    const quiet = await h.agent.rotation!.runCycle();
    expect(quiet.rewritten).toEqual([]);
    const seqBefore = h.agent.journal!.state.lastSeq;
    expect(quiet.mounts).toBe(100);

    const watched = mounts.find((m) => m.account === 0)!;
    const reader = startConsistencyReader({ dir: watched.targetPath, files: ['s0-0', 's0-1'], versionOf: (t) => /^v(\d+):/.exec(t)?.[1] });
    await reader.waitForPasses(5, 30_000);

    // Three secrets change: two of account 0, one of account 1.
    h.stack.aws.putSecret({ name: 's0-0', region: REGION, string: 'v2:s0-0' });
    h.stack.aws.putSecret({ name: 's0-1', region: REGION, string: 'v2:s0-1' });
    h.stack.aws.putSecret({ name: 's1-3', region: REGION, string: 'v2:s1-3' });
    h.stack.aws.counters.reset();

    const cycle = await h.agent.rotation!.runCycle();
    const passes = reader.passes();
    await reader.waitForPasses(passes + 5, 30_000);
    const consistency = await reader.stop();

    const calls = h.stack.aws.counters.byAction();
    expect(calls['BatchGetSecretValue'] ?? 0).toBeLessThanOrEqual(ACCOUNTS * Math.ceil(SECRETS / 20));
    expect(calls['GetParameters'] ?? 0).toBeLessThanOrEqual(ACCOUNTS * Math.ceil(PARAMETERS / 10));
    expect(calls['GetSecretValue'] ?? 0).toBe(0);
    expect(calls['GetParameter'] ?? 0).toBe(0);
    expect(cycle.fetchCalls).toBe(ACCOUNTS);

    const affected = mounts.filter((m) => m.account <= 1).map((m) => m.key).sort();
    expect([...cycle.rewritten].sort()).toEqual(affected);
    // One MountUpdated per rewritten mount, nothing else.
    expect(h.agent.journal!.state.lastSeq - seqBefore).toBe(affected.length);

    const files = await readMountedFiles(watched.targetPath);
    expect(new TextDecoder().decode(files.get('s0-0'))).toBe('v2:s0-0');
    expect(new TextDecoder().decode(files.get('s0-1'))).toBe('v2:s0-1');
    const untouched = await readMountedFiles(mounts.find((m) => m.account === 5)!.targetPath);
    expect(new TextDecoder().decode(untouched.get('s5-0'))).toBe('v1:s5-0');
    expect(consistency.violations).toEqual([]);
    expect(consistency.reads).toBeGreaterThan(0);
  }, 120_000);
});
