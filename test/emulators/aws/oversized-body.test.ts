/**
 * A request body over the emulator's 5 MB limit gets an answer, not a connection reset: 413
 * RequestEntityTooLargeException in the caller's protocol, seen through the real SDK clients, and
 * the emulator keeps serving the same client afterwards.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { refusal, smClient, stsClient } from './helpers.js';

const SIX_MB = 6 * 1024 * 1024;

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
  emu.putSecret({ name: 'app/key', region: 'us-east-1', string: 'v' });
});
afterAll(async () => {
  await emu.stop();
});

describe('oversized request bodies', () => {
  it('answers a signed 6 MB GetSecretValue with 413 RequestEntityTooLargeException, then serves the next call', async () => {
    const sm = smClient(emu);
    expect(await refusal(sm.send(new GetSecretValueCommand({ SecretId: 'x'.repeat(SIX_MB) })))).toMatchObject({
      name: 'RequestEntityTooLargeException',
      status: 413,
    });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'app/key' }))).SecretString).toBe('v');
    expect(emu.counters.count({ action: 'GetSecretValue', outcome: 'error' })).toBe(1);
  });

  it('answers a 6 MB STS form with 413 in the awsQuery shape', async () => {
    const call = stsClient(emu).send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::111122223333:role/r', RoleSessionName: 'big', WebIdentityToken: 'x'.repeat(SIX_MB) }));
    expect(await refusal(call)).toMatchObject({ name: 'RequestEntityTooLargeException', status: 413 });
  });
});
