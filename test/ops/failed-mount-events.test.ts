/**
 * Kubelet-door publish failures show up where operators look: a `FailedMount` Warning Event on the
 * pod (rate-limited per pod), `node_publish_error_total` (by the driver's error types) and secretlet's count by
 * reason, and the log — including a failed republish
 * that kubelet never hears about because the old files are kept.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryVolumeMounter } from '../../src/adapters/fs/in-memory-volume-mounter.js';
import { createCsiClient } from '../../src/adapters/grpc/index.js';
import type { CsiClient } from '../../src/adapters/grpc/index.js';
import type { KubeObject } from '../../src/emulators/kube/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { APP, LogSink, addPod, applySpc, eventually, httpGet, podAttributes, seedApp, targetFor } from './world.js';
import type { PodRef } from './world.js';

interface EventObject extends KubeObject {
  reason?: string;
  message?: string;
  type?: string;
  involvedObject?: { kind?: string; name?: string; uid?: string };
}

function podEvents(h: Harness, pod: PodRef): EventObject[] {
  return (h.stack.kube.list('v1', 'Event', APP.namespace) as EventObject[]).filter((e) => e.involvedObject?.name === pod.name);
}

/** One series' value from a scrape: `metric{…label="value"…}`. */
async function scraped(h: Harness, metric: string, label: string, value: string): Promise<number> {
  const body = (await httpGet(h.agent.metricsPort!, '/metrics')).body;
  const line = body.split('\n').find((l) => l.startsWith(`${metric}{`) && l.includes(`${label}="${value}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** node_publish_error_total by the driver's error type, and secretlet's own count by reason. */
async function publishErrors(h: Harness, errorType: string, reason: string): Promise<[number, number]> {
  return [await scraped(h, 'node_publish_error_total', 'error_type', errorType), await scraped(h, 'secretlet_node_publish_error_reasons_total', 'reason', reason)];
}

describe('FailedMount Events and publish error metrics', () => {
  let h: Harness;
  let csi: CsiClient;
  let logs: LogSink;
  let mounter: InMemoryVolumeMounter;

  beforeEach(async () => {
    logs = new LogSink('info');
    mounter = new InMemoryVolumeMounter();
    // Rotation off: every republish reads AWS, the path these tests exercise (republish-freshness.test.ts
    // covers how republishes within the rotation interval are answered without a read).
    h = await startHarness({ mounter, logger: logs.logger, agent: { rotationInterval: '0' } });
    seedApp(h.stack);
    csi = createCsiClient(h.csiEndpoint);
  });

  afterEach(async () => {
    csi?.close();
    await h?.stop();
  });

  it('records one FailedMount Event naming the cause for a failing first mount, however often kubelet retries', async () => {
    applySpc(h.stack, 'missing-secret', '- objectName: ops/does-not-exist\n  objectType: secretsmanager\n');
    const pod = addPod(h.stack);
    const req = { volumeId: 'csi-missing', targetPath: await targetFor(h.dir, pod), volumeContext: podAttributes(h.stack, pod, 'missing-secret') };

    const first = await csi.nodePublish(req).then(
      () => undefined,
      (e: Error & { details?: string }) => e,
    );
    expect(first).toBeDefined();
    const events = await eventually(() => (podEvents(h, pod).length > 0 ? podEvents(h, pod) : undefined), 'the FailedMount Event');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'Warning', reason: 'FailedMount', involvedObject: { kind: 'Pod', name: pod.name, uid: pod.uid } });
    // kubelet's own wording: the pod's volume name, a space before the colon, grpc-go's code name.
    expect(events[0]!.message).toMatch(/^MountVolume\.SetUp failed for volume "secrets" : rpc error: code = NotFound desc = failed to mount secrets store objects for pod /);
    expect(events[0]!.message).toContain(first!.details!);
    expect(events[0]!.message).toContain('ops/does-not-exist');

    // kubelet retries: the failure is counted each time, but the pod gets no second Event yet.
    await expect(csi.nodePublish(req)).rejects.toThrow();
    const reason = (logs.records().find((r) => r['msg'] === 'node publish volume failed') ?? {})['reason'] as string;
    expect(reason).toBe('ObjectNotFound');
    // The AWS read is the provider's part of a mount: the driver counts it as GRPCProviderError.
    expect(await publishErrors(h, 'GRPCProviderError', reason)).toEqual([2, 2]);
    expect(podEvents(h, pod)).toHaveLength(1);
  });

  it('counts a refused request and a missing SecretProviderClass under the driver\'s error types', async () => {
    const pod = addPod(h.stack);
    const target = await targetFor(h.dir, pod);

    await expect(csi.nodePublish({ volumeId: '', targetPath: target, volumeContext: podAttributes(h.stack, pod, 'nowhere') })).rejects.toThrow(/Volume ID missing/);
    await expect(csi.nodePublish({ volumeId: 'csi-nowhere', targetPath: target, volumeContext: podAttributes(h.stack, pod, 'nowhere') })).rejects.toThrow(/nowhere/);

    expect(await publishErrors(h, 'FailedToMount', 'MissingVolumeId')).toEqual([1, 1]);
    expect(await publishErrors(h, 'SecretProviderClassNotFound', 'SecretProviderClassNotFound')).toEqual([1, 1]);
  });

  it('records a failed republish (masked from kubelet, old files kept) as an Event, a metric and a log line', async () => {
    h.stack.aws.putSecret({ name: 'ops/json', region: APP.region, string: JSON.stringify({ user: 'u1' }) });
    applySpc(h.stack, 'json', '- objectName: ops/json\n  objectType: secretsmanager\n  jmesPath:\n    - path: user\n      objectAlias: user\n');
    const pod = addPod(h.stack);
    const req = { volumeId: 'csi-json', targetPath: await targetFor(h.dir, pod), volumeContext: podAttributes(h.stack, pod, 'json') };
    await csi.nodePublish(req);
    expect(podEvents(h, pod)).toHaveLength(0);
    const files = async (): Promise<Record<string, string>> => ({
      ops_json: await readFile(join(req.targetPath, 'ops_json'), 'utf8'),
      user: await readFile(join(req.targetPath, 'user'), 'utf8'),
    });
    const before = { ops_json: JSON.stringify({ user: 'u1' }), user: 'u1' };
    expect(await files()).toEqual(before);

    // The secret is rotated to something the SPC's jmesPath cannot read: the republish must fail.
    h.stack.aws.putSecret({ name: 'ops/json', region: APP.region, string: 'no longer json' });
    await csi.nodePublish(req); // masked: kubelet sees success
    // ...and the pod still reads the old files, not the unreadable new value.
    expect(await files()).toEqual(before);

    const events = await eventually(() => (podEvents(h, pod).length > 0 ? podEvents(h, pod) : undefined), 'the republish FailedMount Event');
    expect(events[0]!.reason).toBe('FailedMount');
    expect(events[0]!.message).toContain('republish');
    expect(events[0]!.message).toContain('previous files are kept');
    const line = logs.records().find((r) => r['msg'] === 'republish failed; previous files kept');
    expect(line).toMatchObject({ level: 'warn', pod: pod.name, namespace: APP.namespace, spc: 'json', volumeId: 'csi-json' });
    expect(await publishErrors(h, 'GRPCProviderError', line!['reason'] as string)).toEqual([1, 1]);

    // Kubelet republishes every ~75 s: the same failure again is counted, but logged once in the event log.
    const recorded = h.agent.journal!.state.mounts.get(`${pod.uid}/csi-json`)?.lastFailure;
    expect(recorded).toMatchObject({ reason: line!['reason'] });
    await csi.nodePublish(req);
    expect(await publishErrors(h, 'GRPCProviderError', line!['reason'] as string)).toEqual([2, 2]);
    expect(h.agent.journal!.state.mounts.get(`${pod.uid}/csi-json`)?.lastFailure?.seq).toBe(recorded!.seq);
  });

  it('keeps the files of a volume the upstream driver mounted (taken over in a migration) when its first republish here fails', async () => {
    // What the upstream driver with ASCP writing the files leaves: a tmpfs with plain files, no ..data.
    applySpc(h.stack, 'taken-over', '- objectName: ops/does-not-exist\n  objectType: secretsmanager\n');
    const pod = addPod(h.stack);
    const req = { volumeId: 'csi-taken-over', targetPath: await targetFor(h.dir, pod), volumeContext: podAttributes(h.stack, pod, 'taken-over') };
    await mkdir(req.targetPath, { recursive: true });
    await mounter.mount(req.targetPath, { sizeBytes: 1024 * 1024 });
    await writeFile(join(req.targetPath, 'ops_old'), 'upstream-written');

    await csi.nodePublish(req); // masked, as upstream masks a failed remount
    expect(await readFile(join(req.targetPath, 'ops_old'), 'utf8')).toBe('upstream-written');
    expect(await mounter.isMountPoint(req.targetPath)).toBe(true);
    const events = await eventually(() => (podEvents(h, pod).length > 0 ? podEvents(h, pod) : undefined), 'the republish FailedMount Event');
    expect(events[0]!.message).toContain('previous files are kept');
  });
});
