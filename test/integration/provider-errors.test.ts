/**
 * Issue 2, error mapping through the provider door: what status the driver gets back (and so what
 * the pod's event says) for bad input, missing tokens, IAM denials and AWS server faults, and that
 * a failing mount leaves the files of the previous mount exactly as they were.
 */
import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProviderClient } from '../../src/adapters/grpc/index.js';
import type { ProviderClient } from '../../src/adapters/grpc/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { PARAMETERS, REGION, SPC_NAME, driverMountRequest, makeTarget, pod, readTarget, seedShop } from '../support/spc-fixtures.js';
import type { DriverMountOptions } from '../support/spc-fixtures.js';

interface CallError {
  code: number;
  details: string;
}

let h: Harness;
let client: ProviderClient;

beforeEach(async () => {
  // Short backoffs are the agent's own defaults (50 ms base); faults below persist, so every attempt fails.
  // Rotation off: every republish reads AWS, the path these tests exercise (republish-freshness.test.ts
  // covers how republishes within the rotation interval are answered without a read).
  h = await startHarness({ agent: { rotationInterval: '0' } });
  seedShop(h.stack);
  client = createProviderClient(h.providerSocket);
});

afterEach(async () => {
  client.close();
  await h.stop();
});

/** A Mount that must fail, through the test's client unless `via` is given; its status and target. */
async function mountError(overrides: Partial<DriverMountOptions> = {}, via: ProviderClient = client): Promise<{ error: CallError; target: string }> {
  const p = pod('web', 1);
  const target = overrides.targetPath ?? (await makeTarget(h.dir, p.podUid));
  const error = await via
    .mount(driverMountRequest({ stack: h.stack, pod: p, spcName: SPC_NAME, parameters: PARAMETERS, targetPath: target, ...overrides }))
    .then(
      () => {
        throw new Error('the mount succeeded');
      },
      (e: unknown) => e as CallError,
    );
  return { error, target };
}

describe('provider door: bad input', () => {
  it('bad objects YAML is INVALID_ARGUMENT with ASCP\'s text, before any AWS call', async () => {
    h.stack.aws.counters.reset();
    const { error, target } = await mountError({ parameters: { region: REGION, objects: '- objectName: [unclosed' } });
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    // ASCP's wording first (what users search for), then the parameter it is about.
    expect(error.details).toMatch(/^Failed to load SecretProviderClass: error converting YAML to JSON: yaml: line 1: .* \(objects\)$/);
    expect(h.stack.aws.counters.total()).toBe(0);
    expect((await readTarget(target)).size).toBe(0);
  });

  it('a bad objectType is INVALID_ARGUMENT naming the object and the field', async () => {
    const objects = '- objectName: "shop/s04"\n  objectType: "vault"\n';
    const { error } = await mountError({ parameters: { region: REGION, objects } });
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/objectType/);
    expect(error.details).toMatch(/vault/);
  });

  it('missing service account tokens is UNAUTHENTICATED', async () => {
    h.stack.aws.counters.reset();
    const { error } = await mountError({ withoutTokens: true });
    expect(error.code).toBe(status.UNAUTHENTICATED);
    expect(error.details).toMatch(/token/i);
    expect(h.stack.aws.counters.total()).toBe(0);
  });

  it('malformed attributes JSON is INVALID_ARGUMENT naming attributes', async () => {
    const p = pod('web', 1);
    const target = await makeTarget(h.dir, p.podUid);
    const req = { ...driverMountRequest({ stack: h.stack, pod: p, spcName: SPC_NAME, parameters: PARAMETERS, targetPath: target }), attributes: '{"region": 1}' };
    const error = await client.mount(req).then(
      () => undefined,
      (e: unknown) => e as CallError,
    );
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.details).toMatch(/attributes/);
  });
});

describe('provider door: AWS failures', () => {
  it('an IAM denial is PERMISSION_DENIED naming the object', async () => {
    const objects = `${PARAMETERS['objects'] ?? ''}- objectName: "other/secret"\n  objectType: "secretsmanager"\n`;
    const { error } = await mountError({ parameters: { region: REGION, objects } });
    expect(error.code).toBe(status.PERMISSION_DENIED);
    expect(error.details).toMatch(/other\/secret/);
  });

  it('a parameter one pod may not read fails only that pod, not the pods whose reads shared its call', async () => {
    // Both pods run as `web`; their concurrent mounts share one GetParameters call, and IAM refuses a
    // whole call when one name in it is not allowed. A wide coalescing window makes the sharing
    // certain even on a loaded machine.
    client.close();
    await h.stop();
    h = await startHarness({ agent: { rotationInterval: '0', coalesceWindow: '250ms' } });
    seedShop(h.stack);
    client = createProviderClient(h.providerSocket);
    h.stack.aws.putParameter({ name: '/vault/root', region: REGION, value: 'x' });
    const allowed = '- objectName: "/shop/p01"\n  objectType: "ssmparameter"\n';
    const denied = '- objectName: "/vault/root"\n  objectType: "ssmparameter"\n';
    const [a, b] = [pod('web', 1), pod('web', 2)];
    const [ta, tb] = [await makeTarget(h.dir, a.podUid), await makeTarget(h.dir, b.podUid)];
    h.stack.aws.counters.reset();

    const [okMount, deniedMount] = await Promise.allSettled([
      client.mount(driverMountRequest({ stack: h.stack, pod: a, spcName: SPC_NAME, parameters: { region: REGION, objects: allowed }, targetPath: ta })),
      client.mount(driverMountRequest({ stack: h.stack, pod: b, spcName: SPC_NAME, parameters: { region: REGION, objects: denied }, targetPath: tb })),
    ]);

    expect(okMount.status).toBe('fulfilled');
    expect((await readTarget(ta)).get('_shop_p01')?.contents.toString()).toBe('param-1');
    expect(deniedMount.status === 'rejected' && (deniedMount.reason as CallError).code).toBe(status.PERMISSION_DENIED);
    expect(deniedMount.status === 'rejected' && (deniedMount.reason as CallError).details).toMatch(/\/vault\/root/);
    // The shared call was refused, then each name was asked alone.
    expect(h.stack.aws.counters.byAction()['GetParameters']).toBe(3);
  });

  it('a secret that does not exist is NOT_FOUND naming it', async () => {
    h.stack.aws.putSecret({ name: 'shop/placeholder', region: REGION, string: 'x' });
    const objects = `${PARAMETERS['objects'] ?? ''}- objectName: "shop/missing"\n  objectType: "secretsmanager"\n`;
    const { error } = await mountError({ parameters: { region: REGION, objects } });
    expect(error.code).toBe(status.NOT_FOUND);
    expect(error.details).toMatch(/shop\/missing/);
  });

  it('a secret KMS cannot decrypt is PERMISSION_DENIED naming it, with no value in the message', async () => {
    h.stack.aws.putSecret({ name: 'shop/kms-locked', region: REGION, string: 'never-shown-value' });
    h.stack.aws.faults.inject({ kind: 'decryption', secretId: 'shop/kms-locked' });
    const objects = `${PARAMETERS['objects'] ?? ''}- objectName: "shop/kms-locked"\n  objectType: "secretsmanager"\n`;
    const { error } = await mountError({ parameters: { region: REGION, objects } });
    expect(error.code).toBe(status.PERMISSION_DENIED);
    expect(error.details).toMatch(/shop\/kms-locked/);
    expect(error.details).toMatch(/DecryptionFailure|decrypt/i);
    expect(error.details).not.toContain('never-shown-value');
  });

  it.each([
    ['unavailable', 'BatchGetSecretValue'],
    ['throttle', 'GetSecretValue'],
    ['throttle', 'GetParameters'],
    ['unavailable', 'GetParameters'],
  ] as const)('a persistent %s fault on %s is UNAVAILABLE after retries', async (kind, action) => {
    h.stack.aws.faults.inject({ action, kind });
    const { error } = await mountError();
    expect(error.code).toBe(status.UNAVAILABLE);
    // Retried: more than one attempt reached the emulator.
    const attempts = h.stack.aws.counters.count({ action, outcome: kind === 'throttle' ? 'throttled' : 'unavailable' });
    expect(attempts).toBeGreaterThan(1);
  });

  it('an AWS fault the agent already retried tells the driver not to retry: no second round of AWS calls', async () => {
    // The driver's client retries UNAVAILABLE up to 3 times (driver.md §2.2); the agent's answer carries a
    // negative retry pushback, so the driver-configured client makes one call and AWS sees one round of attempts.
    h.stack.aws.faults.inject({ action: 'GetParameters', kind: 'throttle' });
    await mountError();
    const oneRound = h.stack.aws.counters.count({ action: 'GetParameters', outcome: 'throttled' });
    h.stack.aws.counters.reset();
    const driver = createProviderClient(h.providerSocket, { driverServiceConfig: true });
    try {
      const { error } = await mountError({}, driver);
      expect(error.code).toBe(status.UNAVAILABLE);
      expect(h.stack.aws.counters.count({ action: 'GetParameters', outcome: 'throttled' })).toBe(oneRound);
    } finally {
      driver.close();
    }
  });

  it('a throttled BatchGetSecretValue falls back to GetSecretValue (its quota is 100x larger) and mounts', async () => {
    h.stack.aws.faults.inject({ action: 'BatchGetSecretValue', kind: 'throttle' });
    h.stack.aws.counters.reset();
    const p = pod('web', 1);
    const target = await makeTarget(h.dir, p.podUid);
    await client.mount(driverMountRequest({ stack: h.stack, pod: p, spcName: SPC_NAME, parameters: PARAMETERS, targetPath: target }));
    expect((await readTarget(target)).get('shop_s04')?.contents.toString()).toBe('value-4');
    expect(h.stack.aws.counters.count({ action: 'GetSecretValue', outcome: 'ok' })).toBe(12);
  });

  it('throttling of both Secrets Manager reads is UNAVAILABLE after retries', async () => {
    h.stack.aws.faults.inject({ action: 'BatchGetSecretValue', kind: 'throttle' });
    h.stack.aws.faults.inject({ action: 'GetSecretValue', kind: 'throttle' });
    const { error } = await mountError();
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.details).toMatch(/shop\/s\d\d/);
  });

  it('a fault that clears within the retries still mounts', async () => {
    h.stack.aws.faults.inject({ action: 'GetParameters', kind: 'throttle', count: 2 });
    const p = pod('web', 1);
    const target = await makeTarget(h.dir, p.podUid);
    await client.mount(driverMountRequest({ stack: h.stack, pod: p, spcName: SPC_NAME, parameters: PARAMETERS, targetPath: target }));
    expect((await readTarget(target)).get('_shop_p01')?.contents.toString()).toBe('param-1');
  });

  it('a failure in any object writes nothing: the previous files stay as they were', async () => {
    const p = pod('web', 1);
    const target = await makeTarget(h.dir, p.podUid);
    await client.mount(driverMountRequest({ stack: h.stack, pod: p, spcName: SPC_NAME, parameters: PARAMETERS, targetPath: target }));
    const before = await readTarget(target);
    // Every value changes in AWS, but one object (a parameter) cannot be read any more.
    for (let i = 4; i <= 10; i++) h.stack.aws.putSecret({ name: `shop/s${String(i).padStart(2, '0')}`, region: REGION, string: `rotated-${i}` });
    h.stack.aws.putParameter({ name: '/shop/p01', region: REGION, value: 'rotated-p1' });
    h.stack.aws.faults.inject({ action: 'GetParameters', kind: 'unavailable' });
    const { error } = await mountError({ targetPath: target });
    expect(error.code).toBe(status.UNAVAILABLE);
    const after = await readTarget(target);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [name, file] of before) {
      const now = after.get(name);
      expect({ name, contents: now?.contents.toString('base64'), ino: now?.ino }).toEqual({ name, contents: file.contents.toString('base64'), ino: file.ino });
    }
  });
});
