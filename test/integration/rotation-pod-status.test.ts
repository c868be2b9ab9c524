/**
 * After a rotation cycle rewrites a kubelet-door mount, its SecretProviderClassPodStatus names the
 * versions the pod now sees, jmesPath files included (upstream updates `status.objects` on every republish it does not skip).
 * One merge patch per rewritten mount, off the cycle's path; a status whose pod is gone is not
 * re-created. Real agent, CSI door, both emulators.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryVolumeMounter } from '../../src/adapters/fs/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { startFakeKubelet } from '../support/kubelet.js';
import type { FakeKubelet, KubeletPod } from '../support/kubelet.js';
import { SPC_API_VERSION, applySpc, awsSpc } from '../support/kubelet-fixtures.js';

const NS = 'statuses';
const REGION = 'us-east-1';
const OBJECTS = [
  '- objectName: app/key',
  '  objectType: secretsmanager',
  '  jmesPath:',
  '    - path: user',
  '      objectAlias: key-user',
  '- objectName: /app/flag',
  '  objectType: ssmparameter',
  '  objectAlias: flag',
  '',
].join('\n');

function podOf(i: number): KubeletPod {
  return { namespace: NS, name: `app-${i}`, uid: `0000000b-57a7-4000-8000-00000000000${i}`, serviceAccount: 'app', secretProviderClass: 'rotated' };
}

describe('SecretProviderClassPodStatus after rotation', () => {
  let h: Harness;
  let kubelet: FakeKubelet;
  const pods = [podOf(1), podOf(2)];

  function statusObjects(pod: KubeletPod): unknown {
    const spcps = h.stack.kube.get(SPC_API_VERSION, 'SecretProviderClassPodStatus', pod.namespace, `${pod.name}-${pod.namespace}-${pod.secretProviderClass}`);
    return (spcps?.['status'] as { objects?: unknown } | undefined)?.objects;
  }

  beforeEach(async () => {
    h = await startHarness({ mounter: new InMemoryVolumeMounter(), agent: { mode: 'kubelet', syncSecrets: false } });
    h.stack.addServiceAccount({ namespace: NS, name: 'app', roleArn: `arn:aws:iam::${h.stack.aws.accountId}:role/app`, allow: { secrets: ['app/*'], parameters: ['/app/*'], batchGetSecretValue: true } });
    h.stack.aws.putSecret({ name: 'app/key', region: REGION, string: '{"user":"u1"}', versionId: 'key-version-1' });
    h.stack.aws.putParameter({ name: '/app/flag', region: REGION, value: 'flag-v1' });
    applySpc(h.stack, awsSpc({ name: 'rotated', namespace: NS, region: REGION, objects: OBJECTS }));
    kubelet = startFakeKubelet({ stack: h.stack, csiEndpoint: h.csiEndpoint, dir: h.dir });
    for (const pod of pods) await kubelet.publish(pod);
  });

  afterEach(async () => {
    kubelet?.close();
    await h?.stop();
  });

  it('names the versions the rewritten files show, with one patch per mount', async () => {
    expect(statusObjects(pods[0]!)).toEqual([
      { id: 'app_key', version: 'key-version-1' },
      { id: 'flag', version: '1' },
      { id: 'key-user', version: 'key-version-1' },
    ]);
    h.stack.aws.putSecret({ name: 'app/key', region: REGION, string: '{"user":"u2"}', versionId: 'key-version-2' });
    h.stack.kube.counters.reset();

    const cycle = await h.agent.rotation!.runCycle();
    await h.agent.podStatusFollower!.idle();

    expect(cycle.rewritten).toHaveLength(2);
    expect(await kubelet.readFile(pods[0]!, 'key-user')).toBe('u2');
    for (const pod of pods) {
      expect(statusObjects(pod)).toEqual([
        { id: 'app_key', version: 'key-version-2' },
        { id: 'flag', version: '1' },
        { id: 'key-user', version: 'key-version-2' },
      ]);
    }
    const calls = h.stack.kube.counters.byVerbResource();
    expect(calls['patch secretproviderclasspodstatuses']).toBe(2);
    expect(calls['create secretproviderclasspodstatuses'] ?? 0).toBe(0);
    expect(calls['update secretproviderclasspodstatuses'] ?? 0).toBe(0);
  });

  it('leaves statuses alone when a cycle changes nothing', async () => {
    h.stack.kube.counters.reset();

    const cycle = await h.agent.rotation!.runCycle();
    await h.agent.podStatusFollower!.idle();

    expect(cycle.rewritten).toEqual([]);
    expect(Object.keys(h.stack.kube.counters.byVerbResource()).filter((k) => k.includes('secretproviderclasspodstatuses'))).toEqual([]);
  });

  it('does not re-create the status of a pod whose status is gone', async () => {
    const gone = pods[1]!;
    h.stack.kube.delete(SPC_API_VERSION, 'SecretProviderClassPodStatus', gone.namespace, `${gone.name}-${gone.namespace}-${gone.secretProviderClass}`);
    h.stack.aws.putParameter({ name: '/app/flag', region: REGION, value: 'flag-v2' });

    await h.agent.rotation!.runCycle();
    await h.agent.podStatusFollower!.idle();

    expect(statusObjects(pods[0]!)).toEqual([
      { id: 'app_key', version: 'key-version-1' },
      { id: 'flag', version: '2' },
      { id: 'key-user', version: 'key-version-1' },
    ]);
    expect(statusObjects(gone)).toBeUndefined();
    expect(h.agent.podStatusFollower!.report).toMatchObject({ patched: 1, missing: 1, failed: 0 });
  });
});

describe('SecretProviderClassPodStatus after a republish the event log missed', () => {
  it('catches the status up when a republish finds the files already newer than the log (their status write had failed)', async () => {
    // Rotation off: every republish reads AWS, as kubelet's ~75 s republishes do upstream.
    const h = await startHarness({ mounter: new InMemoryVolumeMounter(), agent: { mode: 'kubelet', syncSecrets: false, rotationInterval: '0' } });
    const kubelet = startFakeKubelet({ stack: h.stack, csiEndpoint: h.csiEndpoint, dir: h.dir });
    try {
      h.stack.addServiceAccount({ namespace: NS, name: 'app', roleArn: `arn:aws:iam::${h.stack.aws.accountId}:role/app`, allow: { secrets: ['app/*'], parameters: ['/app/*'], batchGetSecretValue: true } });
      h.stack.aws.putSecret({ name: 'app/key', region: REGION, string: '{"user":"u1"}', versionId: 'key-version-1' });
      h.stack.aws.putParameter({ name: '/app/flag', region: REGION, value: 'flag-v1' });
      applySpc(h.stack, awsSpc({ name: 'rotated', namespace: NS, region: REGION, objects: OBJECTS }));
      const pod = podOf(3);
      const statusVersions = (): unknown => {
        const spcps = h.stack.kube.get(SPC_API_VERSION, 'SecretProviderClassPodStatus', pod.namespace, `${pod.name}-${pod.namespace}-${pod.secretProviderClass}`);
        return ((spcps?.['status'] as { objects?: Array<{ id: string; version: string }> } | undefined)?.objects ?? []).find((o) => o.id === 'key-user')?.version;
      };
      await kubelet.publish(pod);
      expect(statusVersions()).toBe('key-version-1');

      // A republish rewrites the files, but the API server is down for its status write: the
      // failure is masked (the pod keeps working files) and nothing about the new version is logged.
      h.stack.aws.putSecret({ name: 'app/key', region: REGION, string: '{"user":"u2"}', versionId: 'key-version-2' });
      h.stack.kube.pause();
      await kubelet.publish(pod);
      h.stack.kube.resume();
      expect(await kubelet.readFile(pod, 'key-user')).toBe('u2');
      expect(statusVersions()).toBe('key-version-1');

      // The next republish writes nothing (same bytes), yet the status must now follow the files.
      await kubelet.publish(pod);
      await h.agent.podStatusFollower!.idle();
      expect(statusVersions()).toBe('key-version-2');
    } finally {
      kubelet.close();
      await h.stop();
    }
  });
});
