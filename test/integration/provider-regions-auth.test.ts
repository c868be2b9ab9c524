/**
 * Issue 2 through the provider door: the failover region (used for server faults of the primary,
 * access denials and values jmesPath cannot read; never for other client faults) and Pod Identity mode (credentials from the emulator's EKS Pod Identity
 * agent endpoint instead of STS).
 */
import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProviderClient } from '../../src/adapters/grpc/index.js';
import type { ProviderClient } from '../../src/adapters/grpc/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { NAMESPACE, PARAMETERS, REGION, SPC_NAME, driverMountRequest, makeTarget, pod, readTarget, seedShop } from '../support/spc-fixtures.js';

const FAILOVER = 'us-east-2';
const FAILOVER_OBJECTS = `
- objectName: "shop/s04"
  objectType: "secretsmanager"
- objectName: "shop/s05"
  objectType: "secretsmanager"
- objectName: "/shop/p01"
  objectType: "ssmparameter"
`;
const FAILOVER_PARAMETERS = { region: REGION, failoverRegion: FAILOVER, objects: FAILOVER_OBJECTS };

let h: Harness;
let client: ProviderClient;

beforeEach(async () => {
  h = await startHarness();
  seedShop(h.stack);
  // The same names in the failover region, with values that tell the regions apart.
  h.stack.aws.putSecret({ name: 'shop/s04', region: FAILOVER, string: 'east-2-s04' });
  h.stack.aws.putSecret({ name: 'shop/s05', region: FAILOVER, string: 'east-2-s05' });
  h.stack.aws.putParameter({ name: '/shop/p01', region: FAILOVER, value: 'east-2-p01' });
  client = createProviderClient(h.providerSocket);
});

afterEach(async () => {
  client.close();
  await h.stop();
});

async function mountContents(parameters: Record<string, string>, n = 1): Promise<Record<string, string>> {
  const p = pod('web', n);
  const target = await makeTarget(h.dir, p.podUid);
  await client.mount(driverMountRequest({ stack: h.stack, pod: p, spcName: SPC_NAME, parameters, targetPath: target }));
  return Object.fromEntries([...(await readTarget(target))].map(([name, f]) => [name, f.contents.toString()]));
}

function readsIn(region: string): number {
  const c = h.stack.aws.counters;
  return ['BatchGetSecretValue', 'GetSecretValue', 'GetParameters', 'GetParameter'].reduce((n, action) => n + c.count({ action, region }), 0);
}

describe('provider door: failover region', () => {
  it('reads only the primary region when it answers', async () => {
    h.stack.aws.counters.reset();
    expect(await mountContents(FAILOVER_PARAMETERS)).toEqual({ shop_s04: 'value-4', shop_s05: 'value-5', _shop_p01: 'param-1' });
    expect(readsIn(FAILOVER)).toBe(0);
  });

  it('falls over to failoverRegion when the primary answers 5xx', async () => {
    // Scoped to the Secrets Manager and SSM reads of the region: the emulator cannot tell which
    // region an (unsigned) AssumeRoleWithWebIdentity call was meant for, so a whole-region fault
    // would also fail the failover region's STS call (see the report).
    for (const action of ['BatchGetSecretValue', 'GetSecretValue', 'GetParameters']) h.stack.aws.faults.inject({ region: REGION, action, kind: 'unavailable' });
    h.stack.aws.counters.reset();
    expect(await mountContents(FAILOVER_PARAMETERS)).toEqual({ shop_s04: 'east-2-s04', shop_s05: 'east-2-s05', _shop_p01: 'east-2-p01' });
    expect(readsIn(FAILOVER)).toBeGreaterThan(0);
  });

  it("falls over when the primary's value does not hold what jmesPath asks for, as ASCP does", async () => {
    // A JSON secret whose primary copy lost its `user` key (an edit gone wrong in one region).
    h.stack.aws.putSecret({ name: 'shop/db', region: REGION, string: '{"name":"x"}' });
    h.stack.aws.putSecret({ name: 'shop/db', region: FAILOVER, string: '{"user":"replica"}' });
    const objects = `- objectName: "shop/db"\n  objectType: "secretsmanager"\n  jmesPath:\n    - path: user\n      objectAlias: dbuser\n`;
    expect(await mountContents({ ...FAILOVER_PARAMETERS, objects })).toEqual({ shop_db: '{"user":"replica"}', dbuser: 'replica' });
    // Without a failover region the mount fails, naming the object's JMES entry.
    const error = await mountContents({ region: REGION, objects }, 2).then(
      () => undefined,
      (e: unknown) => e as { code: number; details: string },
    );
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.details).toContain('JMES Path - user for object alias - dbuser does not point to a valid object. (objects[0].jmesPath[0].path)');
  });

  it('does not fall over when the primary answers 4xx (not found)', async () => {
    h.stack.aws.putSecret({ name: 'shop/only-east-2', region: FAILOVER, string: 'x' });
    const objects = `${FAILOVER_OBJECTS}- objectName: "shop/only-east-2"\n  objectType: "secretsmanager"\n`;
    h.stack.aws.counters.reset();
    const error = await mountContents({ ...FAILOVER_PARAMETERS, objects }).then(
      () => undefined,
      (e: unknown) => e as { code: number; details: string },
    );
    expect(error?.code).toBe(status.NOT_FOUND);
    expect(error?.details).toMatch(/shop\/only-east-2/);
    expect(readsIn(FAILOVER)).toBe(0);
  });

  it('falls over when the primary denies access, as ASCP does, and names both regions when both deny', async () => {
    h.stack.aws.putSecret({ name: 'other/secret', region: REGION, string: 'x' });
    h.stack.aws.putSecret({ name: 'other/secret', region: FAILOVER, string: 'x' });
    const objects = `${FAILOVER_OBJECTS}- objectName: "other/secret"\n  objectType: "secretsmanager"\n`;
    h.stack.aws.counters.reset();
    const error = await mountContents({ ...FAILOVER_PARAMETERS, objects }).then(
      () => undefined,
      (e: unknown) => e as { code: number; details: string },
    );
    expect(error?.code).toBe(status.PERMISSION_DENIED);
    expect(error?.details).toContain(`from ${REGION}: `);
    expect(error?.details).toContain(`; failover ${FAILOVER}: `);
    expect(readsIn(FAILOVER)).toBeGreaterThan(0);
  });
});

describe('rotation: failover region', () => {
  it('refreshes a mount from the failover region while the primary answers 5xx', async () => {
    const files = await mountContents(FAILOVER_PARAMETERS);
    expect(files['shop_s04']).toBe('value-4');
    for (const action of ['BatchGetSecretValue', 'GetSecretValue', 'GetParameters']) h.stack.aws.faults.inject({ region: REGION, action, kind: 'unavailable' });
    h.stack.aws.putSecret({ name: 'shop/s04', region: FAILOVER, string: 'east-2-s04-rotated' });

    const cycle = await h.agent.rotation!.runCycle();

    expect(cycle.failed).toEqual([]);
    expect(cycle.rewritten).toHaveLength(1);
    const target = await makeTarget(h.dir, pod('web', 1).podUid);
    const now = Object.fromEntries([...(await readTarget(target))].map(([name, f]) => [name, f.contents.toString()]));
    expect(now['shop_s04']).toBe('east-2-s04-rotated');
  });

  it('keeps the old files and names both regions when the failover region fails too', async () => {
    await mountContents(FAILOVER_PARAMETERS);
    for (const region of [REGION, FAILOVER]) {
      for (const action of ['BatchGetSecretValue', 'GetSecretValue', 'GetParameters']) h.stack.aws.faults.inject({ region, action, kind: 'unavailable' });
    }

    const cycle = await h.agent.rotation!.runCycle();

    expect(cycle.rewritten).toEqual([]);
    expect(cycle.failed).toEqual([expect.objectContaining({ reason: expect.any(String) as string })]);
    const entry = h.agent.journal!.state.mounts.values().next().value;
    expect(entry?.lastFailure?.message).toMatch(new RegExp(`${REGION}: .*; failover ${FAILOVER}: `));
    const target = await makeTarget(h.dir, pod('web', 1).podUid);
    expect((await readTarget(target)).get('shop_s04')?.contents.toString()).toBe('value-4');
  });
});

describe('provider door: Pod Identity', () => {
  it('mounts with credentials from the Pod Identity agent endpoint, once for two pods', async () => {
    h.stack.aws.counters.reset();
    const parameters = { ...PARAMETERS, usePodIdentity: 'true' };
    const first = await mountContents(parameters, 1);
    const second = await mountContents(parameters, 2);
    expect(first['shop_s04']).toBe('value-4');
    expect(first['_shop_p12']).toBe('p12-prod');
    expect(second).toEqual(first);
    const counts = h.stack.aws.counters;
    expect(counts.count({ action: 'PodIdentityGetCredentials' })).toBe(1);
    expect(counts.count({ action: 'AssumeRoleWithWebIdentity' })).toBe(0);
    expect(counts.count({ action: 'BatchGetSecretValue' })).toBe(2);
    expect(Object.keys(counts.byIdentity())).toEqual([`system:serviceaccount:${NAMESPACE}:web`]);
  });
});
