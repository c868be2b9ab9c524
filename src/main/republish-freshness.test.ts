import { beforeEach, describe, expect, it } from 'vitest';
import type { AwsIdentity } from '../core/model.js';
import type { RepublishRequest } from '../core/ports/mount-freshness.js';
import { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import { descriptor, mountPlan } from '../../test/support/descriptors.js';
import { LiveMounts } from './rotation-live-mounts.js';
import { RepublishFreshness } from './republish-freshness.js';

const WINDOW = 120_000;
const plan = mountPlan([descriptor({ index: 0, objectName: 'a' })]);
const identity: AwsIdentity = { mode: 'irsa', namespace: 'ns', serviceAccount: 'sa', podUid: 'u1', token: 'old-token', preferredAddressType: 'auto' };
const versions = [{ id: 'a', version: 'v1' }];
const writer = { write: () => Promise.resolve({ changed: true }) };

let live: LiveMounts;
let stamps: Map<string, string>;
let metrics: AgentMetrics;
let freshness: RepublishFreshness;

function request(o: Partial<RepublishRequest> = {}): RepublishRequest {
  return { door: 'csi', mountKey: 'u1/vol', targetPath: '/t', plan, identity: { ...identity, token: 'new-token' }, receivedAt: 10_000, ...o };
}

beforeEach(() => {
  live = new LiveMounts();
  stamps = new Map([['/t', 'dev:ino:1:1']]);
  metrics = new AgentMetrics();
  freshness = new RepublishFreshness({ live, windowMs: WINDOW, targetStamp: (p) => stamps.get(p), metrics });
  live.set({ mountKey: 'u1/vol', door: 'csi', plan, identity, targetPath: '/t', writer, values: new Map(), versions, verifiedAt: 5_000, targetStamp: 'dev:ino:1:1' });
});

describe('RepublishFreshness', () => {
  it('answers a republish of a verified, untouched mount with its versions and hands the new token to rotation', async () => {
    expect(await freshness.current(request())).toEqual(versions);
    expect(live.get('u1/vol')?.identity.token).toBe('new-token');
    expect((await metrics.republishSkipped.get()).values).toEqual([expect.objectContaining({ labels: { door: 'csi' }, value: 1 })]);
  });

  it('reads again once the rotation interval has passed since the last verification', async () => {
    expect(await freshness.current(request({ receivedAt: 5_000 + WINDOW - 1 }))).toEqual(versions);
    expect(await freshness.current(request({ receivedAt: 5_000 + WINDOW }))).toBeUndefined();
    // A rotation cycle that confirmed the values starts a new window.
    live.verified('u1/vol', 5_000 + WINDOW);
    expect(await freshness.current(request({ receivedAt: 5_000 + WINDOW + 1 }))).toEqual(versions);
  });

  it('reads when the target directory is not as the agent left it', async () => {
    stamps.set('/t', 'dev:ino:2:2');
    expect(await freshness.current(request())).toBeUndefined();
    stamps.delete('/t');
    expect(await freshness.current(request())).toBeUndefined();
    expect(live.get('u1/vol')?.identity.token).toBe('old-token');
  });

  it('reads when the request asks for something else than what was verified', async () => {
    expect(await freshness.current(request({ plan: { ...plan, regions: ['eu-west-1'] } }))).toBeUndefined();
    expect(await freshness.current(request({ plan: { ...plan, defaultMode: 0o600 } }))).toBeUndefined();
    expect(await freshness.current(request({ identity: { ...identity, serviceAccount: 'other' } }))).toBeUndefined();
    expect(await freshness.current(request({ identity: { ...identity, mode: 'podIdentity' } }))).toBeUndefined();
    expect(await freshness.current(request({ door: 'provider' }))).toBeUndefined();
    expect(await freshness.current(request({ targetPath: '/elsewhere' }))).toBeUndefined();
    expect(await freshness.current(request({ mountKey: 'u2/vol' }))).toBeUndefined();
    // Objects that are copies (a pool thread's plan) with one field changed.
    const renamed = [{ ...plan.objects[0]!, objectAlias: 'b', fileName: 'b' }];
    expect(await freshness.current(request({ plan: { ...plan, objects: renamed } }))).toBeUndefined();
  });

  it('compares objects by their data when they are copies, as a pool thread hands them over', async () => {
    const copied = structuredClone(plan);
    expect(copied.objects).not.toBe(plan.objects);
    expect(await freshness.current(request({ plan: copied }))).toEqual(versions);
  });

  it('reads for a mount never verified (restored from the log) and when rotation is off', async () => {
    live.set({ mountKey: 'u1/vol', door: 'csi', plan, identity, targetPath: '/t', writer, values: new Map(), versions, targetStamp: 'dev:ino:1:1' });
    expect(await freshness.current(request())).toBeUndefined();
    live.verified('u1/vol', 5_000);
    const off = new RepublishFreshness({ live, windowMs: 0, targetStamp: (p) => stamps.get(p) });
    expect(await off.current(request())).toBeUndefined();
    expect(await freshness.current(request())).toEqual(versions);
  });

  it('reads when the SecretProviderClass secretObjects differ from what the mount was recorded with', async () => {
    const recorded = [{ secretName: 'db', type: 'Opaque', labels: {}, annotations: {}, data: [{ objectName: 'a', key: 'password' }] }];
    freshness = new RepublishFreshness({ live, windowMs: WINDOW, targetStamp: (p) => stamps.get(p), recordedSecretObjects: (key) => (key === 'u1/vol' ? recorded : undefined), metrics });
    expect(await freshness.current(request({ secretObjects: recorded.map((o) => ({ ...o })) }))).toEqual(versions);
    const labelled = [{ ...recorded[0]!, labels: { team: 'payments' } }];
    expect(await freshness.current(request({ secretObjects: labelled }))).toBeUndefined();
    expect(await freshness.current(request({ secretObjects: [] }))).toBeUndefined();
  });
});
