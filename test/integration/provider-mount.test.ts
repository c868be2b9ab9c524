/**
 * Issue 2, end to end through the provider door: a real gRPC client (playing the Secrets Store CSI
 * Driver) on a real Unix socket, a real Agent, and the AWS + Kubernetes emulators. Asserts what a
 * user sees (files, modes, ObjectVersions) and what AWS sees (the emulator's call counters).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createProviderClient } from '../../src/adapters/grpc/index.js';
import type { ProviderClient, ProviderMountResponse } from '../../src/adapters/grpc/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness, HarnessOptions } from '../support/agent-harness.js';
import { NAMESPACE, PARAMETERS, SPC_NAME, driverMountRequest, makeTarget, pod, readTarget, seedShop } from '../support/spc-fixtures.js';
import type { Expected, PodRef } from '../support/spc-fixtures.js';

const SA_A = `system:serviceaccount:${NAMESPACE}:web`;
const SA_B = `system:serviceaccount:${NAMESPACE}:admin-ui`;

let harness: Harness | undefined;
let client: ProviderClient | undefined;

afterEach(async () => {
  client?.close();
  client = undefined;
  await harness?.stop();
  harness = undefined;
});

async function start(options: HarnessOptions = {}, seed: { batch?: boolean } = {}): Promise<{ h: Harness; c: ProviderClient; expected: Expected }> {
  harness = await startHarness(options);
  const expected = seedShop(harness.stack, seed);
  client = createProviderClient(harness.providerSocket);
  return { h: harness, c: client, expected };
}

async function mount(h: Harness, c: ProviderClient, p: PodRef, extra: { currentObjectVersion?: Array<{ id: string; version: string }> } = {}): Promise<{ target: string; res: ProviderMountResponse }> {
  const target = await makeTarget(h.dir, p.podUid);
  const res = await c.mount(driverMountRequest({ stack: h.stack, pod: p, spcName: SPC_NAME, parameters: PARAMETERS, targetPath: target, ...extra }));
  return { target, res };
}

function versionsOf(res: ProviderMountResponse): Map<string, string> {
  return new Map(res.objectVersion.map((v) => [v.id, v.version]));
}

async function expectFiles(target: string, expected: Expected): Promise<void> {
  const actual = await readTarget(target);
  expect([...actual.keys()].sort()).toEqual([...expected.files.keys()].sort());
  for (const [name, want] of expected.files) {
    const got = actual.get(name);
    expect({ name, mode: got?.mode.toString(8), contents: got?.contents.toString('base64') }).toEqual({
      name,
      mode: want.mode.toString(8),
      contents: want.contents.toString('base64'),
    });
  }
}

describe('provider door: Version', () => {
  it('answers as the AWS provider does, with secretlet named in the version', async () => {
    const { c } = await start();
    await expect(c.version()).resolves.toEqual({ version: 'v1alpha1', runtimeName: 'secrets-store-csi-driver-provider-aws', runtimeVersion: expect.stringMatching(/^secretlet-\d+\.\d+\.\d+/) as unknown });
  });
});

describe('provider door: 12 Secrets Manager objects + 12 SSM parameters', () => {
  it('mounts files, modes and ObjectVersions for two pods of one service account with 1 STS call and batched reads', async () => {
    const { h, c, expected } = await start();
    const counters = h.stack.aws.counters;
    counters.reset();

    const first = await mount(h, c, pod('web', 1));
    await expectFiles(first.target, expected);
    expect(versionsOf(first.res)).toEqual(expected.versions);
    expect(first.res.files).toEqual([]); // provider writes: the driver gets no files
    const afterFirst = counters.byAction();

    const second = await mount(h, c, pod('web', 2));
    await expectFiles(second.target, expected);
    expect(versionsOf(second.res)).toEqual(expected.versions);
    const total = counters.byAction();

    const perMount = (a: Record<string, number>, b: Record<string, number> = {}): Record<string, number> =>
      Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]).filter(([, v]) => v !== 0));
    const m1 = perMount(afterFirst);
    const m2 = perMount(total, afterFirst);
    expect(total['AssumeRoleWithWebIdentity']).toBe(1);
    for (const m of [m1, m2]) {
      expect(m['BatchGetSecretValue']).toBe(1);
      expect(m['GetSecretValue']).toBe(2);
      expect(m['GetParameters']).toBeGreaterThanOrEqual(1);
      expect(m['GetParameters']).toBeLessThanOrEqual(2);
      expect(m['DescribeSecret'] ?? 0).toBe(0);
      expect(m['GetParameter'] ?? 0).toBe(0);
    }
    expect(Object.keys(counters.byIdentity())).toEqual([SA_A]);
  });

  it('two concurrent mounts of the same service account share one BatchGetSecretValue', async () => {
    // A wide merge window so the two calls, sent together, meet even on a loaded machine.
    const { h, c, expected } = await start({ agent: { coalesceWindow: '1s' } });
    h.stack.aws.counters.reset();
    const [a, b] = await Promise.all([mount(h, c, pod('web', 1)), mount(h, c, pod('web', 2))]);
    await expectFiles(a.target, expected);
    await expectFiles(b.target, expected);
    const counts = h.stack.aws.counters.byAction();
    expect(counts['BatchGetSecretValue']).toBe(1);
    expect(counts['AssumeRoleWithWebIdentity']).toBe(1);
    expect(counts['GetSecretValue']).toBe(2); // the pinned objects are identical requests: fetched once
    expect(counts['GetParameters']).toBeLessThanOrEqual(2);
  });

  it('falls back to one GetSecretValue per secret when the role may not BatchGetSecretValue', async () => {
    const { h, c, expected } = await start({}, { batch: false });
    h.stack.aws.counters.reset();
    const { target, res } = await mount(h, c, pod('web', 1));
    await expectFiles(target, expected);
    expect(versionsOf(res)).toEqual(expected.versions);
    const counts = h.stack.aws.counters;
    expect(counts.count({ action: 'GetSecretValue', outcome: 'ok' })).toBe(12);
    expect(counts.count({ action: 'BatchGetSecretValue', outcome: 'ok' })).toBe(0);
    expect(counts.count({ action: 'BatchGetSecretValue' })).toBeLessThanOrEqual(1);
  });

  it('never lends one service account the credentials of another', async () => {
    const { h, c, expected } = await start();
    await mount(h, c, pod('web', 1));
    h.stack.aws.counters.reset();
    const bPod = pod('admin-ui', 1);
    const target = await makeTarget(h.dir, bPod.podUid);
    const err = await c
      .mount(driverMountRequest({ stack: h.stack, pod: bPod, spcName: SPC_NAME, parameters: PARAMETERS, targetPath: target }))
      .then(() => undefined, (e: unknown) => e as { code: number; details: string });
    expect(err?.code).toBe(7); // PERMISSION_DENIED
    expect(err?.details).toMatch(/shop\/s02/);
    expect((await readTarget(target)).size).toBe(0);
    const byIdentity = h.stack.aws.counters.byIdentity();
    expect(Object.keys(byIdentity)).toEqual([SA_B]);
    expect(byIdentity[SA_B]?.['AssumeRoleWithWebIdentity']).toBe(1);
    expect(h.stack.aws.counters.count({ identity: SA_B, outcome: 'denied' })).toBeGreaterThan(0);
    // And A still mounts (its cached credentials were not replaced by B's).
    const again = await mount(h, c, pod('web', 3));
    await expectFiles(again.target, expected);
  });
});

describe('provider door: rewrites and driver-writes mode', () => {
  // Two things keep a repeat Mount (kubelet's ~2-minute republish) from rewriting the files: with
  // rotation on, the agent keeps the target current and answers without reading AWS; with it off,
  // it reads AWS and the writer finds the same bytes and modes on disk. current_object_version,
  // sent here as the driver would, is not consulted by either.
  it.each([
    { rotation: 'on', rotationInterval: undefined, readsAws: false },
    { rotation: 'off', rotationInterval: '0', readsAws: true },
  ])('a repeat Mount of an unchanged payload rewrites nothing (rotation $rotation)', async ({ rotationInterval, readsAws }) => {
    const { h, c, expected } = await start(rotationInterval === undefined ? {} : { agent: { rotationInterval } });
    const p = pod('web', 1);
    const first = await mount(h, c, p);
    const before = await readTarget(first.target);
    expect(before.size).toBe(expected.files.size);
    h.stack.aws.counters.reset();
    const again = await mount(h, c, p, { currentObjectVersion: first.res.objectVersion });
    expect(again.target).toBe(first.target);
    expect(versionsOf(again.res)).toEqual(expected.versions);
    const reads = ['BatchGetSecretValue', 'GetSecretValue', 'GetParameters'].reduce((n, action) => n + h.stack.aws.counters.count({ action }), 0);
    expect(reads > 0).toBe(readsAws);
    const after = await readTarget(first.target);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [name, file] of before) {
      const now = after.get(name);
      expect({ name, ino: now?.ino, mtimeNs: now?.mtimeNs }).toEqual({ name, ino: file.ino, mtimeNs: file.mtimeNs });
    }
  });

  it('driver-writes mode returns files with paths, modes and contents and writes nothing', async () => {
    const { h, c, expected } = await start({ agent: { driverWritesSecrets: true } });
    const { target, res } = await mount(h, c, pod('web', 1));
    expect((await readTarget(target)).size).toBe(0);
    const files = new Map(res.files.map((f) => [f.path, { mode: f.mode, contents: Buffer.from(f.contents).toString('base64') }]));
    expect(files).toEqual(new Map([...expected.files].map(([name, f]) => [name, { mode: f.mode, contents: f.contents.toString('base64') }])));
    expect(versionsOf(res)).toEqual(expected.versions);
  });
});
