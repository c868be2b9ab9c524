/**
 * Every shared SecretProviderClass fixture (test/fixtures/spc, a copy of ../shared/fixtures/spc) mounts unchanged through the
 * provider door against the emulator, producing the files its header comment lists. The AWS side
 * each fixture names (secrets, parameters, ARNs in account 123456789012, versions and labels) is
 * seeded from FIXTURE_WORLDS in test/support/spc-fixtures.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderClient } from '../../src/adapters/grpc/index.js';
import type { ProviderClient } from '../../src/adapters/grpc/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import {
  FIXTURE_ACCOUNT,
  FIXTURE_DEFAULT_REGION,
  FIXTURE_WORLDS,
  driverMountRequest,
  fixtureFiles,
  loadFixture,
  makeTarget,
  readTarget,
} from '../support/spc-fixtures.js';
import type { PodRef, SpcFixture } from '../support/spc-fixtures.js';

const ROLE = 'arn:aws:iam::123456789012:role/fixture-reader';
const NAMES = Object.keys(FIXTURE_WORLDS).sort();

let h: Harness;
let client: ProviderClient;

beforeAll(async () => {
  h = await startHarness({ stack: { aws: { accountId: FIXTURE_ACCOUNT } }, agent: { region: FIXTURE_DEFAULT_REGION } });
  h.stack.addServiceAccount({ namespace: 'default', name: 'fixture-app', roleArn: ROLE, allow: { secrets: ['*'], parameters: ['*'], batchGetSecretValue: true } });
  client = createProviderClient(h.providerSocket);
});

afterAll(async () => {
  client.close();
  await h.stop();
});

let podCount = 0;
function nextPod(serviceAccount = 'fixture-app'): PodRef {
  podCount += 1;
  return { namespace: 'default', serviceAccount, podName: `fixture-pod-${podCount}`, podUid: `11111111-2222-4333-8444-${String(podCount).padStart(12, '0')}` };
}

async function mountFixture(fixture: SpcFixture, p: PodRef = nextPod()): Promise<{ target: string; objectVersion: Array<{ id: string; version: string }> }> {
  const target = await makeTarget(h.dir, p.podUid);
  const res = await client.mount(driverMountRequest({ stack: h.stack, pod: p, spcName: fixture.name, parameters: fixture.parameters, targetPath: target }));
  return { target, objectVersion: res.objectVersion };
}

describe('shared SPC fixtures through the provider door', () => {
  it('a world is defined for every fixture file', async () => {
    expect(await fixtureFiles()).toEqual(NAMES);
  });

  it.each(NAMES)('%s mounts the files its header lists', async (file) => {
    const fixture = await loadFixture(file);
    const world = FIXTURE_WORLDS[file];
    if (world === undefined) throw new Error(`no world for ${file}`);
    world.seed(h.stack);
    const { target, objectVersion } = await mountFixture(fixture);
    const files = await readTarget(target);
    expect(Object.fromEntries([...files].map(([name, f]) => [name, f.contents.toString()]))).toEqual(world.files);
    for (const [name, f] of files) expect({ name, mode: f.mode.toString(8) }).toEqual({ name, mode: (world.modes?.[name] ?? 0o644).toString(8) });
    expect(objectVersion.map((v) => v.id).sort()).toEqual(Object.keys(world.files).sort());
    const versions = new Map(objectVersion.map((v) => [v.id, v.version]));
    for (const [id, version] of Object.entries(world.versions ?? {})) expect({ id, version: versions.get(id) }).toEqual({ id, version });
    // Re-seeding would add versions: later fixtures reuse names (MySecret) with their own values.
    h.stack.aws.counters.reset();
  });

  it('jmespath-failover.yaml reads the failover ARN in us-east-2 when us-east-1 answers 5xx', async () => {
    const fixture = await loadFixture('jmespath-failover.yaml');
    FIXTURE_WORLDS['jmespath-failover.yaml']?.seed(h.stack);
    h.stack.aws.putSecret({ name: 'MySecret', region: 'us-east-2', string: JSON.stringify({ username: 'east-2-user', password: 'east-2-pw' }) });
    for (const action of ['BatchGetSecretValue', 'GetSecretValue']) h.stack.aws.faults.inject({ region: 'us-east-1', action, kind: 'unavailable' });
    try {
      const { target } = await mountFixture(fixture);
      const files = Object.fromEntries([...(await readTarget(target))].map(([name, f]) => [name, f.contents.toString()]));
      expect(files['testArn']).toBe('failover-value');
      expect(files['MySecretUsername']).toBe('east-2-user');
    } finally {
      h.stack.aws.faults.clear();
    }
  });

  it('pod-identity.yaml has no spec.provider, yet its parameters mount through the provider door with Pod Identity', async () => {
    const fixture = await loadFixture('pod-identity.yaml');
    expect(fixture.provider).toBeUndefined();
    FIXTURE_WORLDS['pod-identity.yaml']?.seed(h.stack);
    // A service account no earlier mount used: no credentials of either mode are cached for it, so
    // the mount must fetch them now, and the call it makes shows which mode it chose.
    const sa = 'fixture-pod-identity-only';
    h.stack.addServiceAccount({ namespace: 'default', name: sa, roleArn: ROLE, allow: { secrets: ['*'], parameters: ['*'], batchGetSecretValue: true } });
    h.stack.aws.counters.reset();
    const { target } = await mountFixture(fixture, nextPod(sa));
    expect((await readTarget(target)).get('MySecret')?.contents.toString()).toBe('pod-identity-value');
    const counts = h.stack.aws.counters;
    expect(counts.count({ action: 'PodIdentityGetCredentials' })).toBe(1);
    expect(counts.count({ action: 'AssumeRoleWithWebIdentity' })).toBe(0);
    expect(Object.keys(counts.byIdentity())).toEqual([`system:serviceaccount:default:${sa}`]);
  });
});
