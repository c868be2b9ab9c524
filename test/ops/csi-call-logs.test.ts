/**
 * What an operator sees of each kubelet-door call: one log line per call whose mountKey is the
 * same for a volume's publish and its unpublish (so the two can be matched), and calls the door's
 * own input checks refuse still logged and counted in the driver's error series.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryVolumeMounter } from '../../src/adapters/fs/in-memory-volume-mounter.js';
import { createCsiClient } from '../../src/adapters/grpc/index.js';
import type { CsiClient } from '../../src/adapters/grpc/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { APP, LogSink, addPod, applySpc, httpGet, podAttributes, seedApp, targetFor } from './world.js';

function counter(body: string, name: string): number {
  return body
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('kubelet-door call logs', () => {
  let h: Harness;
  let csi: CsiClient;
  const logs = new LogSink('info');
  const byMessage = (msg: string) => logs.records().filter((r) => r['msg'] === msg);

  beforeAll(async () => {
    h = await startHarness({ mounter: new InMemoryVolumeMounter(), logger: logs.logger });
    seedApp(h.stack);
    h.stack.aws.putSecret({ name: 'ops/logs', region: APP.region, string: 'v' });
    applySpc(h.stack, 'logs-spc', '- objectName: ops/logs\n  objectType: secretsmanager\n');
    csi = createCsiClient(h.csiEndpoint);
  }, 60_000);

  afterAll(async () => {
    csi?.close();
    await h?.stop();
  });

  it("logs a volume's publish and unpublish under one mountKey: <pod uid>/<volume_id>", async () => {
    const pod = addPod(h.stack);
    const targetPath = await targetFor(h.dir, pod, 'secrets-store-inline');
    const volumeId = 'csi-0123456789abcdef';
    await csi.nodePublish({ volumeId, targetPath, volumeContext: podAttributes(h.stack, pod, 'logs-spc') });
    await csi.nodeUnpublish({ volumeId, targetPath });
    const published = byMessage('node publish volume complete').filter((r) => String(r['mountKey']).startsWith(pod.uid));
    const unpublished = byMessage('node unpublish volume complete').filter((r) => String(r['mountKey']).startsWith(pod.uid));
    expect(published.map((r) => r['mountKey'])).toEqual([`${pod.uid}/${volumeId}`]);
    expect(unpublished.map((r) => r['mountKey'])).toEqual([`${pod.uid}/${volumeId}`]);
  });

  it('logs and counts calls its input checks refuse, as upstream counts them', async () => {
    const port = h.agent.metricsPort;
    if (port === undefined) throw new Error('metrics server not bound');
    const before = (await httpGet(port, '/metrics')).body;
    const pod = addPod(h.stack);
    const targetPath = await targetFor(h.dir, pod);

    await expect(csi.nodeUnpublish({ volumeId: '', targetPath })).rejects.toMatchObject({ code: 3 });
    await expect(csi.nodePublish({ volumeId: 'csi-x', targetPath, volumeContext: podAttributes(h.stack, pod, 'logs-spc'), volumeCapability: null })).rejects.toMatchObject({ code: 3 });

    const after = (await httpGet(port, '/metrics')).body;
    expect(counter(after, 'node_unpublish_error_total') - counter(before, 'node_unpublish_error_total')).toBe(1);
    expect(counter(after, 'node_publish_error_total') - counter(before, 'node_publish_error_total')).toBe(1);
    expect(byMessage('node unpublish volume refused')).toHaveLength(1);
    expect(byMessage('node unpublish volume refused')[0]).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(byMessage('node publish volume refused')).toHaveLength(1);
    expect(byMessage('node publish volume refused')[0]).toMatchObject({ mountKey: `${pod.uid}/csi-x`, code: 'INVALID_ARGUMENT' });
  });
});
