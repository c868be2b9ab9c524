/**
 * Identity and access through the real SDK: AssumeRoleWithWebIdentity with tokens signed by a test
 * issuer (good, wrong audience, expired, untrusted subject or issuer), the returned credentials used
 * for Secrets Manager and SSM under the role's policy, SigV4 rejections, and pod identity
 * credentials through the SDK's fromHttp provider.
 */
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { fromHttp, fromWebToken } from '@aws-sdk/credential-providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEmulator } from '../../../src/emulators/aws/index.js';
import { createTestIssuer, startTrustingEmulator, errorName, smClient, ssmClient, stsClient, type TestIssuer } from './helpers.js';

const READER = 'arn:aws:iam::111122223333:role/reader';
const NO_BATCH = 'arn:aws:iam::111122223333:role/no-batch';
const LISTER = 'arn:aws:iam::111122223333:role/lister';
const LONG_SESSIONS = 'arn:aws:iam::111122223333:role/long-sessions';

let emu: AwsEmulator;
let issuer: TestIssuer;
let now = Date.now();

beforeAll(async () => {
  ({ emu, issuer } = await startTrustingEmulator({ now: () => now }));
  emu.addRole({
    roleArn: READER,
    trust: [{ namespace: 'shop', serviceAccount: 'web' }],
    allow: { secrets: ['shop/*'], parameters: ['/shop/*'], batchGetSecretValue: true },
  });
  emu.addRole({ roleArn: NO_BATCH, trust: [{ namespace: 'shop', serviceAccount: '*' }], allow: { secrets: ['shop/*'] } });
  emu.addRole({ roleArn: LISTER, trust: [{ namespace: 'shop', serviceAccount: '*' }], allow: { secrets: ['shop/*'], batchGetSecretValue: true, listSecrets: true } });
  emu.addRole({ roleArn: LONG_SESSIONS, trust: [{ namespace: 'shop', serviceAccount: '*' }], allow: {}, maxSessionDurationSeconds: 7200 });
  emu.addPodIdentityAssociation({ namespace: 'shop', serviceAccount: 'web', roleArn: READER });
  for (let i = 0; i < 18; i++) emu.putSecret({ name: `shop/s${i}`, region: 'us-east-1', string: `value-${i}` });
  emu.putSecret({ name: 'admin/root', region: 'us-east-1', string: 'forbidden' });
  emu.putParameter({ name: '/shop/color', region: 'us-east-1', value: 'blue' });
  emu.putParameter({ name: '/admin/key', region: 'us-east-1', value: 'k' });
});
afterAll(async () => {
  await emu.stop();
});

async function assume(token: string, roleArn = READER) {
  const out = await stsClient(emu).send(
    new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'test-session', WebIdentityToken: token }),
  );
  const c = out.Credentials!;
  return { out, credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! } };
}

describe('STS AssumeRoleWithWebIdentity', () => {
  it('exchanges a good token for role credentials that read allowed secrets', async () => {
    const token = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com' });
    const { out, credentials } = await assume(token);
    expect(credentials.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(out.SubjectFromWebIdentityToken).toBe('system:serviceaccount:shop:web');
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::111122223333:assumed-role/reader/test-session');
    expect(out.Audience).toBe('sts.amazonaws.com');
    expect(out.Credentials!.Expiration!.getTime()).toBeGreaterThan(now);

    const sm = smClient(emu, 'us-east-1', credentials);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'shop/s1' }))).SecretString).toBe('value-1');
    expect(await errorName(sm.send(new GetSecretValueCommand({ SecretId: 'admin/root' })))).toBe('AccessDeniedException');
    // Without permission the caller cannot even learn that a secret does not exist.
    expect(await errorName(sm.send(new GetSecretValueCommand({ SecretId: 'admin/missing' })))).toBe('AccessDeniedException');
    expect(await errorName(sm.send(new GetSecretValueCommand({ SecretId: 'shop/missing' })))).toBe('ResourceNotFoundException');
    expect(await errorName(sm.send(new PutSecretValueCommand({ SecretId: 'shop/s1', SecretString: 'x' })))).toBe(
      'AccessDeniedException',
    );
    const me = await stsClientWith(credentials).send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe('arn:aws:sts::111122223333:assumed-role/reader/test-session');
  });

  it('works through the SDK fromWebToken provider', async () => {
    const token = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: ['other', 'sts.amazonaws.com'] });
    const credentials = fromWebToken({
      roleArn: READER,
      webIdentityToken: token,
      roleSessionName: 'sdk',
      clientConfig: { endpoint: emu.url, region: 'us-east-1' },
    });
    const sm = smClient(emu, 'us-east-1', await credentials());
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'shop/s2' }))).SecretString).toBe('value-2');
  });

  it("refuses a DurationSeconds above the role's MaxSessionDuration (one hour unless the role says more)", async () => {
    const token = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com' });
    const ask = (roleArn: string, seconds: number) =>
      stsClient(emu).send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'duration-test', WebIdentityToken: token, DurationSeconds: seconds }));
    const refusal = (p: Promise<unknown>) => p.then(() => 'granted', (e: Error) => `${e.name}: ${e.message}`);
    const tooLong = 'ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration set for this role.';
    expect(await refusal(ask(READER, 7200))).toBe(tooLong);
    const out = await ask(READER, 3600);
    expect(out.Credentials!.Expiration!.getTime()).toBe(now + 3600_000);
    expect((await ask(LONG_SESSIONS, 7200)).Credentials!.Expiration!.getTime()).toBe(now + 7200_000);
    expect(await refusal(ask(LONG_SESSIONS, 7201))).toBe(tooLong);
    expect(() => emu.addRole({ roleArn: 'arn:aws:iam::111122223333:role/bad', trust: [], allow: {}, maxSessionDurationSeconds: 60 })).toThrow(/maxSessionDurationSeconds/);
  });

  it('checks RoleSessionName as STS does: its length (2-64) first, then its characters, each with its own message', async () => {
    const token = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com' });
    const ask = (name: string) =>
      stsClient(emu)
        .send(new AssumeRoleWithWebIdentityCommand({ RoleArn: READER, RoleSessionName: name, WebIdentityToken: token }))
        .then(() => 'granted', (e: Error) => `${e.name}: ${e.message}`);
    const prefix = "ValidationError: 1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must";
    expect(await ask('s')).toBe(`${prefix} have length greater than or equal to 2`);
    expect(await ask('x'.repeat(65))).toBe(`${prefix} have length less than or equal to 64`);
    expect(await ask('has space')).toBe(`${prefix} satisfy regular expression pattern: [\\w+=,.@-]*`);
    expect(await ask('ok')).toBe('granted');
  });

  it('rejects a wrong audience, an expired token, an untrusted subject or issuer', async () => {
    const wrongAudience = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'pods.eks.amazonaws.com' });
    expect(await errorName(assume(wrongAudience))).toBe('InvalidIdentityTokenException');
    const expired = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com', expiresInSeconds: -60 });
    expect(await errorName(assume(expired))).toBe('ExpiredTokenException');
    const stranger = issuer.mint({ namespace: 'shop', serviceAccount: 'intruder', audience: 'sts.amazonaws.com' });
    expect(await errorName(assume(stranger))).toBe('AccessDenied');
    const forged = createTestIssuer(issuer.issuer).mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com' });
    expect(await errorName(assume(forged))).toBe('InvalidIdentityTokenException');
    const untrusted = createTestIssuer().mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com' });
    expect(await errorName(assume(untrusted))).toBe('InvalidIdentityTokenException');
    expect(await errorName(assume('not-a-jwt'))).toBe('InvalidIdentityTokenException');
  });
});

function stsClientWith(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  const client = stsClient(emu);
  client.config.credentials = async () => credentials;
  return client;
}

describe('policy', () => {
  it('answers a 20-id batch with per-secret errors for missing and forbidden secrets', async () => {
    const token = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com' });
    const { credentials } = await assume(token);
    const ids = [...Array.from({ length: 18 }, (_, i) => `shop/s${i}`), 'shop/missing', 'admin/root'];
    const out = await smClient(emu, 'us-east-1', credentials).send(new BatchGetSecretValueCommand({ SecretIdList: ids }));
    expect(out.SecretValues!.map((v) => v.SecretString)).toEqual(Array.from({ length: 18 }, (_, i) => `value-${i}`));
    expect(out.Errors!.map((e) => [e.SecretId, e.ErrorCode])).toEqual([
      ['shop/missing', 'ResourceNotFoundException'],
      ['admin/root', 'AccessDeniedException'],
    ]);
    expect(JSON.stringify(out.Errors)).not.toContain('forbidden');
  });

  it('refuses BatchGetSecretValue as a whole without the batch permission', async () => {
    const token = issuer.mint({ namespace: 'shop', serviceAccount: 'any', audience: 'sts.amazonaws.com' });
    const { credentials } = await assume(token, NO_BATCH);
    const sm = smClient(emu, 'us-east-1', credentials);
    expect(await errorName(sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['shop/s1'] })))).toBe('AccessDeniedException');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'shop/s1' }))).SecretString).toBe('value-1');
  });

  it('refuses a filtered BatchGetSecretValue without ListSecrets, as IAM authorizes it as a listing too', async () => {
    const filtered = new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['shop/s1'] }] });
    const token = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com' });
    const reader = smClient(emu, 'us-east-1', (await assume(token)).credentials);
    expect(await errorName(reader.send(filtered))).toBe('AccessDeniedException');
    expect((await reader.send(new BatchGetSecretValueCommand({ SecretIdList: ['shop/s1'] }))).SecretValues).toHaveLength(1);
    const lister = smClient(emu, 'us-east-1', (await assume(token, LISTER)).credentials);
    const out = await lister.send(filtered);
    expect(out.SecretValues!.map((v) => v.Name)).toEqual(['shop/s1', 'shop/s10', 'shop/s11', 'shop/s12', 'shop/s13', 'shop/s14', 'shop/s15', 'shop/s16', 'shop/s17']);
  });

  it('refuses a whole GetParameters call when one name is not allowed', async () => {
    const token = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com' });
    const { credentials } = await assume(token);
    const ssm = ssmClient(emu, 'us-east-1', credentials);
    expect((await ssm.send(new GetParametersCommand({ Names: ['/shop/color'] }))).Parameters![0]!.Value).toBe('blue');
    expect(await errorName(ssm.send(new GetParametersCommand({ Names: ['/shop/color', '/admin/key'] })))).toBe('AccessDeniedException');
  });
});

describe('SigV4', () => {
  it('rejects a wrong secret key, an unknown key, a missing session token and an expired session', async () => {
    const { accessKeyId } = emu.adminCredentials;
    const wrongSecret = smClient(emu, 'us-east-1', { accessKeyId, secretAccessKey: 'not-the-secret' });
    expect(await errorName(wrongSecret.send(new GetSecretValueCommand({ SecretId: 'shop/s1' })))).toBe('InvalidSignatureException');
    const unknown = smClient(emu, 'us-east-1', { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' });
    expect(await errorName(unknown.send(new GetSecretValueCommand({ SecretId: 'shop/s1' })))).toBe('UnrecognizedClientException');

    const token = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com' });
    const { credentials } = await assume(token);
    const noToken = smClient(emu, 'us-east-1', { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey });
    expect(await errorName(noToken.send(new GetSecretValueCommand({ SecretId: 'shop/s1' })))).toBe('UnrecognizedClientException');

    const start = now;
    now += 3601_000; // the emulated world moves past the session's expiry
    try {
      const late = smClient(emu, 'us-east-1', credentials);
      expect(await errorName(late.send(new GetSecretValueCommand({ SecretId: 'shop/s1' })))).toBe('ExpiredTokenException');
    } finally {
      now = start;
    }
  });
});

describe('SigV4 on STS', () => {
  it('names signature failures as STS does: InvalidClientTokenId, SignatureDoesNotMatch, ExpiredToken, all 403', async () => {
    const failure = (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error & { $metadata?: { httpStatusCode?: number } }) => `${e.name} ${e.$metadata?.httpStatusCode}`);
    const { accessKeyId } = emu.adminCredentials;
    expect(await failure(stsClientWith({ accessKeyId, secretAccessKey: 'not-the-secret' }).send(new GetCallerIdentityCommand({})))).toBe('SignatureDoesNotMatch 403');
    expect(await failure(stsClientWith({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }).send(new GetCallerIdentityCommand({})))).toBe('InvalidClientTokenId 403');
    const token = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com' });
    const { credentials } = await assume(token);
    const start = now;
    now += 3601_000;
    try {
      expect(await failure(stsClientWith(credentials).send(new GetCallerIdentityCommand({})))).toBe('ExpiredToken 403');
    } finally {
      now = start;
    }
  });
});

describe('EKS Pod Identity agent', () => {
  it('serves role credentials to the SDK fromHttp provider', async () => {
    const token = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'pods.eks.amazonaws.com' });
    const provider = fromHttp({ awsContainerCredentialsFullUri: emu.podIdentityUrl, awsContainerAuthorizationToken: token });
    const credentials = await provider();
    expect(credentials.sessionToken).toBeTruthy();
    expect(credentials.expiration!.getTime()).toBeGreaterThan(now);
    const sm = smClient(emu, 'us-east-2', credentials);
    emu.putSecret({ name: 'shop/east2', region: 'us-east-2', string: 'from-2' });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'shop/east2' }))).SecretString).toBe('from-2');
    expect(emu.counters.byIdentity()['system:serviceaccount:shop:web']?.PodIdentityGetCredentials).toBeGreaterThanOrEqual(1);
  });

  it('answers bad tokens and unassociated service accounts with agent errors', async () => {
    const get = (authorization?: string) =>
      fetch(emu.podIdentityUrl, { headers: authorization === undefined ? {} : { authorization } }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { code: string },
      }));
    expect(await get()).toMatchObject({ status: 400, body: { code: 'InvalidTokenException' } });
    const stsAudience = issuer.mint({ namespace: 'shop', serviceAccount: 'web', audience: 'sts.amazonaws.com' });
    expect(await get(stsAudience)).toMatchObject({ status: 400, body: { code: 'InvalidTokenException' } });
    const unassociated = issuer.mint({ namespace: 'shop', serviceAccount: 'batch', audience: 'pods.eks.amazonaws.com' });
    expect(await get(unassociated)).toMatchObject({ status: 403, body: { code: 'AccessDeniedException' } });
  });
});
