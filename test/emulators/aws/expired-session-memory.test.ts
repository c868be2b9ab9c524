/**
 * A session expired long ago (past the day after which the emulator forgets its credentials) still
 * answers ExpiredTokenException / ExpiredToken, as AWS does for any expired session, not "the
 * security token included in the request is invalid". The emulator clock is moved, not waited for.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEmulator } from '../../../src/emulators/aws/index.js';
import { startTrustingEmulator, refusal, smClient, stsClient, type TestIssuer } from './helpers.js';

const ROLE = 'arn:aws:iam::111122223333:role/late';
const DAY = 86_400_000;

let emu: AwsEmulator;
let issuer: TestIssuer;
let now = Date.now();
beforeAll(async () => {
  ({ emu, issuer } = await startTrustingEmulator({ now: () => now }));
  emu.addRole({ roleArn: ROLE, trust: [{ namespace: 'ns', serviceAccount: 'sa' }], allow: { secrets: ['app/*'] } });
  emu.putSecret({ name: 'app/key', region: 'us-east-1', string: 'v' });
});
afterAll(async () => {
  await emu.stop();
});

async function assume() {
  const token = issuer.mint({ namespace: 'ns', serviceAccount: 'sa', audience: 'sts.amazonaws.com', now });
  const c = (await stsClient(emu).send(new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE, RoleSessionName: 'late-session', WebIdentityToken: token }))).Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

describe('long-expired sessions', () => {
  it('still answers ExpiredTokenException (STS: ExpiredToken) after the emulator forgot the session', async () => {
    const old = await assume();
    now += 2 * DAY;
    await assume(); // issuing a session prunes those expired for over a day

    // The SDK signs with the emulator's (moved) clock, as one that corrected its skew would.
    const config = { endpoint: emu.url, region: 'us-east-1', credentials: old, maxAttempts: 1, systemClockOffset: now - Date.now() };
    const sm = new SecretsManagerClient(config);
    expect(await refusal(sm.send(new GetSecretValueCommand({ SecretId: 'app/key' })))).toEqual({
      name: 'ExpiredTokenException',
      status: 400,
      message: 'The security token included in the request is expired',
    });
    const sts = new STSClient(config);
    expect(await refusal(sts.send(new GetCallerIdentityCommand({})))).toMatchObject({ name: 'ExpiredToken', status: 403 });
  });

  it('keeps answering UnrecognizedClientException for a key it never issued', async () => {
    const forged = { accessKeyId: 'ASIAFORGEDFORGEDFORG', secretAccessKey: 'x', sessionToken: 'y' };
    expect((await refusal(smClient(emu, 'us-east-1', forged).send(new GetSecretValueCommand({ SecretId: 'app/key' })))).name).toBe(
      'UnrecognizedClientException',
    );
  });
});
