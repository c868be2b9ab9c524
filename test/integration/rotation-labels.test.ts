/**
 * Rotation follows labels: an `objectVersionLabel` (a Secrets Manager staging label such as
 * AWSPREVIOUS, an SSM parameter label) moves from version to version, so a rotation cycle asks for
 * it again and rewrites the mount when it moved, as upstream does (aws-provider.md §11.2, §11.3).
 * An `objectVersion` is a pin and is never asked again. Real agent, CSI door, both emulators.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryVolumeMounter } from '../../src/adapters/fs/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { startFakeKubelet } from '../support/kubelet.js';
import type { FakeKubelet, KubeletPod } from '../support/kubelet.js';
import { applySpc, awsSpc } from '../support/kubelet-fixtures.js';

const NS = 'labels';
const REGION = 'us-east-1';

describe('rotation of labelled and pinned objects', () => {
  let h: Harness;
  let kubelet: FakeKubelet;
  let pinnedVersion: string;
  const pod: KubeletPod = { namespace: NS, name: 'app-0', uid: '0000000a-1abe-4000-8000-000000000001', serviceAccount: 'app', secretProviderClass: 'labelled' };

  beforeEach(async () => {
    h = await startHarness({ mounter: new InMemoryVolumeMounter(), agent: { mode: 'kubelet', syncSecrets: false } });
    h.stack.addServiceAccount({ namespace: NS, name: 'app', roleArn: `arn:aws:iam::${h.stack.aws.accountId}:role/app`, allow: { secrets: ['app/*'], parameters: ['/app/*'], batchGetSecretValue: true } });
    // Two versions each: AWSPREVIOUS is on v1, the SSM label `prod` on version 1, the pin names v1.
    pinnedVersion = h.stack.aws.putSecret({ name: 'app/pinned', region: REGION, string: 'pinned-v1' }).versionId;
    h.stack.aws.putSecret({ name: 'app/pinned', region: REGION, string: 'pinned-v2' });
    h.stack.aws.putSecret({ name: 'app/key', region: REGION, string: 'key-v1' });
    h.stack.aws.putSecret({ name: 'app/key', region: REGION, string: 'key-v2' });
    h.stack.aws.putParameter({ name: '/app/flag', region: REGION, value: 'flag-v1' });
    h.stack.aws.labelParameter({ name: '/app/flag', region: REGION, version: 1, labels: ['prod'] });
    h.stack.aws.putParameter({ name: '/app/flag', region: REGION, value: 'flag-v2' });
    const objects = [
      '- objectName: app/key',
      '  objectType: secretsmanager',
      '  objectAlias: previous-key',
      '  objectVersionLabel: AWSPREVIOUS',
      '- objectName: app/pinned',
      '  objectType: secretsmanager',
      `  objectVersion: ${pinnedVersion}`,
      '- objectName: /app/flag',
      '  objectType: ssmparameter',
      '  objectAlias: flag',
      '  objectVersionLabel: prod',
      '',
    ].join('\n');
    applySpc(h.stack, awsSpc({ name: 'labelled', namespace: NS, region: REGION, objects }));
    kubelet = startFakeKubelet({ stack: h.stack, csiEndpoint: h.csiEndpoint, dir: h.dir });
    await kubelet.publish(pod);
  });

  afterEach(async () => {
    kubelet?.close();
    await h?.stop();
  });

  it('rewrites the mount when a label moved, and leaves a version pin where it is', async () => {
    expect(await kubelet.readFile(pod, 'previous-key')).toBe('key-v1');
    expect(await kubelet.readFile(pod, 'flag')).toBe('flag-v1');
    expect(await kubelet.readFile(pod, 'app_pinned')).toBe('pinned-v1');

    // A new current version moves AWSPREVIOUS to v2; the label `prod` moves to version 2; the pinned secret gets v3.
    h.stack.aws.putSecret({ name: 'app/key', region: REGION, string: 'key-v3' });
    h.stack.aws.labelParameter({ name: '/app/flag', region: REGION, version: 2, labels: ['prod'] });
    h.stack.aws.putSecret({ name: 'app/pinned', region: REGION, string: 'pinned-v3' });
    h.stack.aws.counters.reset();

    const cycle = await h.agent.rotation!.runCycle();

    expect(cycle.failed).toEqual([]);
    expect(cycle.rewritten).toHaveLength(1);
    expect(await kubelet.readFile(pod, 'previous-key')).toBe('key-v2');
    expect(await kubelet.readFile(pod, 'flag')).toBe('flag-v2');
    expect(await kubelet.readFile(pod, 'app_pinned')).toBe('pinned-v1');
    // The labelled secret is asked by its label (a batch cannot name a stage); the pin is not asked at all.
    const calls = h.stack.aws.counters.byAction();
    expect(calls['GetSecretValue']).toBe(1);
    expect(calls['GetParameters']).toBe(1);
    expect(calls['BatchGetSecretValue'] ?? 0).toBe(0);
  });

  it('leaves the mount alone when no label moved', async () => {
    h.stack.aws.putSecret({ name: 'app/pinned', region: REGION, string: 'pinned-v3' });
    const link = await kubelet.dataLink(pod);

    const cycle = await h.agent.rotation!.runCycle();

    expect(cycle.failed).toEqual([]);
    expect(cycle.rewritten).toEqual([]);
    expect(await kubelet.dataLink(pod)).toBe(link);
  });
});
