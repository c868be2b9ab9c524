/**
 * KubeEventRecorder against the local API server: Events carry the component upstream's carry (so
 * filters written for them keep matching), a repeated problem is sent once per window and counted on
 * its Event, and two different problems of one object in that window are both sent.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeEventRecorder } from '../../../src/adapters/kubernetes/event-recorder.js';
import { loadKubeConfig } from '../../../src/adapters/kubernetes/kube-config.js';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';

describe('KubeEventRecorder', () => {
  let emulator: KubeEmulator;
  let dir: string;

  beforeAll(async () => {
    emulator = await startKubeEmulator();
    dir = await mkdtemp(join(tmpdir(), 'secretlet-events-'));
    await emulator.writeKubeconfig(join(dir, 'kubeconfig'));
  });

  afterAll(async () => {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const eventsOf = (pod: string) =>
    emulator.list('v1', 'Event', 'default').filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === pod) as Array<Record<string, unknown>>;

  it('sends each distinct problem of an object once per window, with the component it was given', async () => {
    let now = 1_000_000;
    const recorder = new KubeEventRecorder(loadKubeConfig(join(dir, 'kubeconfig')), { component: 'csi-secrets-store-controller', now: () => now });
    const pod = { kind: 'Pod' as const, namespace: 'default', name: 'web-0', uid: 'u-1' };
    const db = 'failed to get data in spc default/spc for secret db, err: file matching objectName nope not found in the pod';
    const other = 'failed to get data in spc default/spc for secret other, err: file matching objectName gone not found in the pod';

    expect(await recorder.warning(pod, 'FailedToCreateSecret', db)).toBe(true);
    expect(await recorder.warning(pod, 'FailedToCreateSecret', other)).toBe(true);
    expect(await recorder.warning(pod, 'FailedToCreateSecret', db)).toBe(false); // same problem, same window
    now += 30_000;
    expect(await recorder.warning(pod, 'FailedToCreateSecret', db)).toBe(true);

    const sent = eventsOf('web-0');
    // Listed by (generated) name, not in creation order. The repeat is a count on the first Event.
    expect(sent.map((e) => [String(e['message']), e['count']]).sort()).toEqual([[db, 2], [other, 1]]);
    expect(sent.find((e) => e['message'] === db)?.['lastTimestamp']).toBe(new Date(now).toISOString());
    for (const e of sent) {
      expect(e).toMatchObject({ type: 'Warning', reason: 'FailedToCreateSecret', source: { component: 'csi-secrets-store-controller' }, reportingComponent: 'csi-secrets-store-controller' });
    }
  });

  it('creates a new Event for a repeat whose Event is gone (the API server expires them after an hour)', async () => {
    let now = 2_000_000;
    const recorder = new KubeEventRecorder(loadKubeConfig(join(dir, 'kubeconfig')), { now: () => now });
    const pod = { kind: 'Pod' as const, namespace: 'default', name: 'web-1' };
    expect(await recorder.warning(pod, 'FailedMount', 'stuck')).toBe(true);
    for (const e of eventsOf('web-1')) emulator.delete('v1', 'Event', 'default', String((e['metadata'] as { name: string }).name));
    now += 30_000;
    expect(await recorder.warning(pod, 'FailedMount', 'stuck')).toBe(true);
    expect(eventsOf('web-1').map((e) => e['count'])).toEqual([1]);
  });

  it('creates a new Event for a repeat when patching the first is refused, so no repeat goes unreported', async () => {
    let now = 3_000_000;
    const recorder = new KubeEventRecorder(loadKubeConfig(join(dir, 'kubeconfig')), { now: () => now });
    const pod = { kind: 'Pod' as const, namespace: 'default', name: 'web-2' };
    expect(await recorder.warning(pod, 'FailedMount', 'still stuck')).toBe(true);
    // Every patch refused, retries included (as an API server without the patch grant would).
    emulator.throttle({ verb: 'patch', resource: 'events', times: 11, retryAfterSeconds: 0 });
    now += 30_000;
    expect(await recorder.warning(pod, 'FailedMount', 'still stuck')).toBe(true);
    expect(eventsOf('web-2').map((e) => e['count'])).toEqual([1, 1]);
  });
});
