/**
 * The AWS secret source against the local AWS emulator (real SDK clients, real HTTP, real STS and
 * Pod Identity token checks): call counts, fallbacks, throttling and identity isolation.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAwsEmulator } from '../../../src/emulators/aws/index.js';
import type { AwsEmulator } from '../../../src/emulators/aws/index.js';
import { createAwsSecretSource, InMemoryServiceAccountDirectory } from '../../../src/adapters/aws/index.js';
import type { AwsSecretSource, AwsSecretSourceOptions } from '../../../src/adapters/aws/index.js';
import type { ObjectRequest } from '../../../src/core/model.js';
import { createTestIssuer, ISSUER } from './oidc.js';

const REGION = 'us-east-1';
const ROLE_A = 'arn:aws:iam::111122223333:role/app-a';
const ROLE_B = 'arn:aws:iam::111122223333:role/app-b';
const ROLE_OLD = 'arn:aws:iam::111122223333:role/legacy';

const issuer = createTestIssuer();
let aws: AwsEmulator;
let sources: AwsSecretSource[];
let dir: InMemoryServiceAccountDirectory;

beforeEach(async () => {
  aws = await startAwsEmulator();
  sources = [];
  await aws.trustIssuer({ issuer: ISSUER, jwks: issuer.jwks });
  aws.addRole({ roleArn: ROLE_A, trust: [{ namespace: 'shop', serviceAccount: 'a' }], allow: { secrets: ['app/*'], parameters: ['/app/*'], batchGetSecretValue: true } });
  aws.addRole({ roleArn: ROLE_B, trust: [{ namespace: 'shop', serviceAccount: 'b' }], allow: { secrets: ['other/*'], batchGetSecretValue: true } });
  aws.addRole({ roleArn: ROLE_OLD, trust: [{ namespace: 'legacy', serviceAccount: 'old' }], allow: { secrets: ['app/*'] } });
  aws.addPodIdentityAssociation({ namespace: 'shop', serviceAccount: 'a', roleArn: ROLE_A });
  dir = new InMemoryServiceAccountDirectory();
  dir.setRoleArn('shop', 'a', ROLE_A);
  dir.setRoleArn('shop', 'b', ROLE_B);
  dir.setRoleArn('legacy', 'old', ROLE_OLD);
  for (let i = 0; i < 10; i++) aws.putSecret({ name: `app/s${i}`, region: REGION, string: `value-${i}` });
  aws.putSecret({ name: 'other/x', region: REGION, string: 'other' });
});

afterEach(async () => {
  for (const s of sources) s.close();
  await aws.stop();
});

function source(extra: Partial<AwsSecretSourceOptions> = {}): AwsSecretSource {
  const s = createAwsSecretSource({ endpoint: aws.url, podIdentityEndpoint: aws.podIdentityUrl, serviceAccounts: dir, retryBaseDelayMs: 20, ...extra });
  sources.push(s);
  return s;
}

const secrets = (n: number): ObjectRequest[] => Array.from({ length: n }, (_, i) => ({ type: 'secretsmanager', secretId: `app/s${i}` }));
const texts = (out: Array<{ ok: boolean; value?: { bytes: Uint8Array }; error?: { code: string } }>) =>
  out.map((r) => (r.ok && r.value ? new TextDecoder().decode(r.value.bytes) : r.error?.code));
const calls = (action: string) => aws.counters.count({ action });

describe('AwsSecretSource against the AWS emulator', () => {
  it('two mounts of one SA: one STS call in total and one BatchGetSecretValue per mount', async () => {
    const s = source();
    const a1 = issuer.identity({ namespace: 'shop', serviceAccount: 'a', podUid: 'p1' });
    const a2 = issuer.identity({ namespace: 'shop', serviceAccount: 'a', podUid: 'p2' });
    expect(texts(await s.fetch(a1, REGION, secrets(10)))).toEqual(Array.from({ length: 10 }, (_, i) => `value-${i}`));
    expect(texts(await s.fetch(a2, REGION, secrets(10)))).toHaveLength(10);
    expect(calls('AssumeRoleWithWebIdentity')).toBe(1);
    expect(calls('BatchGetSecretValue')).toBe(2);
    expect(calls('GetSecretValue')).toBe(0);
    expect(s.stats()).toMatchObject({ credentialMisses: 1, credentialHits: 1, batchCalls: 2 });
  });

  it('concurrent mounts within the window share one BatchGetSecretValue', async () => {
    const s = source({ coalesceWindowMs: 20 });
    const a1 = issuer.identity({ namespace: 'shop', serviceAccount: 'a', podUid: 'p1' });
    const a2 = issuer.identity({ namespace: 'shop', serviceAccount: 'a', podUid: 'p2' });
    // Credentials first, so both fetches below reach the coalescing window at the same time.
    await s.fetch(a1, REGION, [{ type: 'secretsmanager', secretId: 'app/s0', versionStage: 'AWSPREVIOUS' }]).catch(() => undefined);
    aws.counters.reset();
    const [m1, m2] = await Promise.all([s.fetch(a1, REGION, secrets(10)), s.fetch(a2, REGION, secrets(10))]);
    expect(texts(m1)).toEqual(texts(m2));
    expect(calls('BatchGetSecretValue')).toBe(1);
    expect(calls('AssumeRoleWithWebIdentity')).toBe(0);
  });

  it('pinned secrets are read with one GetSecretValue each', async () => {
    const s = source();
    const v1 = aws.putSecret({ name: 'app/pinned', region: REGION, string: 'first' });
    aws.putSecret({ name: 'app/pinned', region: REGION, string: 'second' });
    const out = await s.fetch(issuer.identity({ namespace: 'shop', serviceAccount: 'a' }), REGION, [
      { type: 'secretsmanager', secretId: 'app/pinned', versionId: v1.versionId },
      { type: 'secretsmanager', secretId: 'app/pinned', versionStage: 'AWSPREVIOUS' },
      { type: 'secretsmanager', secretId: 'app/s1', versionStage: 'AWSPREVIOUS' },
    ]);
    expect(texts(out)).toEqual(['first', 'first', 'NOT_FOUND']);
    expect(out[0]).toMatchObject({ ok: true, value: { version: v1.versionId } });
    expect(calls('GetSecretValue')).toBe(3);
    expect(calls('BatchGetSecretValue')).toBe(0);
  });

  it('12 SSM parameters take at most two GetParameters calls, labels included', async () => {
    const s = source();
    for (let i = 0; i < 12; i++) aws.putParameter({ name: `/app/p${i}`, region: REGION, value: `pv${i}`, type: 'SecureString' });
    aws.putParameter({ name: '/app/p0', region: REGION, value: 'pv0-new' });
    aws.labelParameter({ name: '/app/p0', region: REGION, version: 1, labels: ['stable'] });
    const requests: ObjectRequest[] = Array.from({ length: 12 }, (_, i) => ({ type: 'ssmparameter', name: `/app/p${i}` }));
    const out = await s.fetch(issuer.identity({ namespace: 'shop', serviceAccount: 'a' }), REGION, requests);
    expect(texts(out)).toEqual(['pv0-new', ...Array.from({ length: 11 }, (_, i) => `pv${i + 1}`)]);
    expect(out[0]).toMatchObject({ ok: true, value: { version: '2' } });
    expect(calls('GetParameters')).toBeLessThanOrEqual(2);

    aws.counters.reset();
    const labelled = await s.fetch(issuer.identity({ namespace: 'shop', serviceAccount: 'a' }), REGION, [
      { type: 'ssmparameter', name: '/app/p0', selector: 'stable' },
      { type: 'ssmparameter', name: '/app/p0' },
      { type: 'ssmparameter', name: '/app/missing' },
    ]);
    expect(texts(labelled)).toEqual(['pv0', 'pv0-new', 'NOT_FOUND']);
  });

  it('a role without BatchGetSecretValue still succeeds, and the denial is remembered', async () => {
    const s = source();
    const old = issuer.identity({ namespace: 'legacy', serviceAccount: 'old' });
    expect(texts(await s.fetch(old, REGION, secrets(3)))).toEqual(['value-0', 'value-1', 'value-2']);
    expect(texts(await s.fetch(old, REGION, secrets(3)))).toHaveLength(3);
    expect(calls('BatchGetSecretValue')).toBe(1);
    expect(calls('GetSecretValue')).toBe(6);
  });

  it("SA B never gets SA A's credentials or values", async () => {
    const s = source();
    const a = issuer.identity({ namespace: 'shop', serviceAccount: 'a' });
    await s.fetch(a, REGION, secrets(1));
    const bClaimingA = issuer.identity({ namespace: 'shop', serviceAccount: 'a', tokenFor: { namespace: 'shop', serviceAccount: 'b' } });
    await expect(s.fetch(bClaimingA, REGION, secrets(1))).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });

    const b = issuer.identity({ namespace: 'shop', serviceAccount: 'b' });
    const out = await s.fetch(b, REGION, [{ type: 'secretsmanager', secretId: 'app/s0' }, { type: 'secretsmanager', secretId: 'other/x' }]);
    expect(texts(out)).toEqual(['PERMISSION_DENIED', 'other']);
    expect(aws.counters.byIdentity()['system:serviceaccount:shop:b']?.AssumeRoleWithWebIdentity).toBe(1);
    expect(calls('AssumeRoleWithWebIdentity')).toBe(2);
  });

  it("Pod Identity: SA B of the same namespace gets its own role's credentials and values, not SA A's", async () => {
    aws.addPodIdentityAssociation({ namespace: 'shop', serviceAccount: 'b', roleArn: ROLE_B });
    const s = source();
    const a = issuer.identity({ namespace: 'shop', serviceAccount: 'a', mode: 'podIdentity' });
    const b = issuer.identity({ namespace: 'shop', serviceAccount: 'b', mode: 'podIdentity' });
    const both: ObjectRequest[] = [{ type: 'secretsmanager', secretId: 'app/s0' }, { type: 'secretsmanager', secretId: 'other/x' }];
    expect(texts(await s.fetch(a, REGION, both))).toEqual(['value-0', 'PERMISSION_DENIED']);
    expect(texts(await s.fetch(b, REGION, both))).toEqual(['PERMISSION_DENIED', 'other']);
    expect(s.stats()).toMatchObject({ credentialMisses: 2, credentialHits: 0 });
  });

  it("IRSA: SA B annotated with SA A's role is refused by the role's trust policy, though A's credentials are cached", async () => {
    dir.setRoleArn('shop', 'b', ROLE_A); // ROLE_A trusts shop/a only
    const s = source();
    expect(texts(await s.fetch(issuer.identity({ namespace: 'shop', serviceAccount: 'a' }), REGION, secrets(1)))).toEqual(['value-0']);
    const b = issuer.identity({ namespace: 'shop', serviceAccount: 'b' });
    await expect(s.fetch(b, REGION, secrets(1))).rejects.toMatchObject({ code: 'PERMISSION_DENIED', reason: 'CredentialsDenied' });
    expect(aws.counters.byIdentity()['system:serviceaccount:shop:b']?.AssumeRoleWithWebIdentity).toBe(1);
  });

  it('per-secret not found fails exactly that object', async () => {
    const s = source();
    const out = await s.fetch(issuer.identity({ namespace: 'shop', serviceAccount: 'a' }), REGION, [
      { type: 'secretsmanager', secretId: 'app/s0' },
      { type: 'secretsmanager', secretId: 'app/nope' },
      { type: 'secretsmanager', secretId: 'app/s1' },
    ]);
    expect(texts(out)).toEqual(['value-0', 'NOT_FOUND', 'value-1']);
    expect(out[1]?.ok === false && out[1].error.message).toContain('app/nope');
  });

  it('throttling: batch spills over to GetSecretValue, throttled gets are retried, all succeed', async () => {
    const s = source({ maxAttempts: 8 });
    aws.faults.inject({ action: 'BatchGetSecretValue', kind: 'throttle', count: 1 });
    aws.faults.inject({ action: 'GetSecretValue', kind: 'throttle', count: 3 });
    const out = await s.fetch(issuer.identity({ namespace: 'shop', serviceAccount: 'a' }), REGION, secrets(4));
    expect(texts(out)).toEqual(['value-0', 'value-1', 'value-2', 'value-3']);
    expect(calls('BatchGetSecretValue')).toBe(1);
    expect(aws.counters.count({ action: 'GetSecretValue', outcome: 'ok' })).toBe(4);
    expect(s.stats().throttledCalls).toBe(4);
  });

  it('throttling via the emulator rate limit: concurrent identities still all get their values', async () => {
    aws.setRateLimit('BatchGetSecretValue', 1);
    aws.setRateLimit('GetSecretValue', 5);
    const s = source({ maxAttempts: 10, retryMaxDelayMs: 500 });
    const ids = ['a', 'b'].map((sa) => issuer.identity({ namespace: 'shop', serviceAccount: sa }));
    aws.addRole({ roleArn: ROLE_B, trust: [{ namespace: 'shop', serviceAccount: 'b' }], allow: { secrets: ['app/*'], batchGetSecretValue: true } });
    const outs = await Promise.all([...ids, ...ids].map((id) => s.fetch(id, REGION, secrets(5))));
    for (const out of outs) expect(texts(out)).toEqual(['value-0', 'value-1', 'value-2', 'value-3', 'value-4']);
    expect(aws.counters.count({ outcome: 'throttled' })).toBeGreaterThan(0);
  });

  it('Pod Identity: one agent call for two mounts of one SA', async () => {
    const s = source();
    const p1 = issuer.identity({ namespace: 'shop', serviceAccount: 'a', mode: 'podIdentity', podUid: 'p1' });
    const p2 = issuer.identity({ namespace: 'shop', serviceAccount: 'a', mode: 'podIdentity', podUid: 'p2' });
    expect(texts(await s.fetch(p1, REGION, secrets(2)))).toEqual(['value-0', 'value-1']);
    expect(texts(await s.fetch(p2, 'eu-west-1', [{ type: 'secretsmanager', secretId: 'app/s0' }]))).toEqual(['NOT_FOUND']);
    expect(s.stats()).toMatchObject({ credentialMisses: 1, credentialHits: 1 });
  });

  it('a service account without a role annotation fails with FAILED_PRECONDITION', async () => {
    const s = source();
    await expect(s.fetch(issuer.identity({ namespace: 'shop', serviceAccount: 'none' }), REGION, secrets(1))).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: 'An IAM role must be associated with service account none (namespace: shop)',
    });
  });

  it("a node clock 10 minutes behind AWS: the first call of a client succeeds once the SDK corrects its offset", async () => {
    const skewed = await startAwsEmulator({ now: () => Date.now() + 10 * 60_000 });
    try {
      await skewed.trustIssuer({ issuer: ISSUER, jwks: issuer.jwks });
      skewed.addRole({ roleArn: ROLE_A, trust: [{ namespace: 'shop', serviceAccount: 'a' }], allow: { secrets: ['app/*'], parameters: ['/app/*'], batchGetSecretValue: true } });
      const pinned = skewed.putSecret({ name: 'app/pinned', region: REGION, string: 'first' });
      skewed.putParameter({ name: '/app/p', region: REGION, value: 'pv', type: 'String' });
      const s = createAwsSecretSource({ endpoint: skewed.url, serviceAccounts: dir, retryBaseDelayMs: 20 });
      sources.push(s);
      const out = await s.fetch(issuer.identity({ namespace: 'shop', serviceAccount: 'a' }), REGION, [
        { type: 'secretsmanager', secretId: 'app/pinned', versionId: pinned.versionId },
        { type: 'ssmparameter', name: '/app/p' },
      ]);
      expect(texts(out)).toEqual(['first', 'pv']);
      // One refused attempt per client (Secrets Manager, SSM), each retried once.
      expect(skewed.counters.count({ action: 'GetSecretValue' })).toBe(2);
      expect(skewed.counters.count({ action: 'GetParameters' })).toBe(2);
    } finally {
      await skewed.stop();
    }
  });
});
