/**
 * How far off its clock a signed request may be, per service, through real SDK clients whose clock
 * is shifted with `systemClockOffset`: Secrets Manager and SSM allow 5 minutes, STS 15, each
 * refusing in its own words. The SDK corrects its clock from the refusal's Date header, so the
 * next call of the same client goes through, as against AWS.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';

const REGION = 'us-east-1';
const MINUTE = 60_000;
const AMZ_DATE = String.raw`\d{8}T\d{6}Z`;

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
  emu.putSecret({ name: 'app/key', region: REGION, string: 'v' });
  emu.putParameter({ name: '/app/p', region: REGION, value: 'p' });
});
afterAll(async () => {
  await emu.stop();
});

/** One attempt per send, so each answer is observed; the clock correction still carries over. */
function clientConfig(offsetMs: number) {
  return { endpoint: emu.url, region: REGION, credentials: emu.adminCredentials, maxAttempts: 1, systemClockOffset: offsetMs };
}

async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

describe('SigV4 time window', () => {
  it('refuses a Secrets Manager request signed 6 minutes late, then the SDK re-signs with its corrected clock', async () => {
    const sm = new SecretsManagerClient(clientConfig(-6 * MINUTE));
    const refused = await failure(sm.send(new GetSecretValueCommand({ SecretId: 'app/key' })));
    expect(refused.name).toBe('InvalidSignatureException');
    expect(refused.message).toMatch(new RegExp(`^Signature expired: ${AMZ_DATE} is now earlier than ${AMZ_DATE} \\(${AMZ_DATE} - 5 min\\.\\)$`));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'app/key' }))).SecretString).toBe('v');
  });

  it('refuses an SSM request signed 6 minutes early as not yet current', async () => {
    const ssm = new SSMClient(clientConfig(6 * MINUTE));
    const refused = await failure(ssm.send(new GetParameterCommand({ Name: '/app/p' })));
    expect(refused.name).toBe('InvalidSignatureException');
    expect(refused.message).toMatch(new RegExp(`^Signature not yet current: ${AMZ_DATE} is still later than ${AMZ_DATE} \\(${AMZ_DATE} \\+ 5 min\\.\\)$`));
    expect((await ssm.send(new GetParameterCommand({ Name: '/app/p' }))).Parameter?.Value).toBe('p');
  });

  it('gives STS its 15 minutes: 6 minutes off passes, 16 minutes off is SignatureDoesNotMatch (403)', async () => {
    const me = await new STSClient(clientConfig(-6 * MINUTE)).send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe('arn:aws:iam::111122223333:user/emulator-admin');
    const refused = await failure(new STSClient(clientConfig(-16 * MINUTE)).send(new GetCallerIdentityCommand({})));
    expect(refused).toMatchObject({ name: 'SignatureDoesNotMatch', status: 403 });
    expect(refused.message).toMatch(new RegExp(`^Signature expired: ${AMZ_DATE} is now earlier than ${AMZ_DATE} \\(${AMZ_DATE} - 15 min\\.\\)$`));
  });
});
