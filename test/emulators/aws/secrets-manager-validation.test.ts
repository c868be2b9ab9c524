/**
 * Secrets Manager's model length bounds through the real SDK client (API reference: a client
 * request token or version id is 32-64 characters, a description at most 2048, a secret value at
 * most 65,536): out of bounds is a 400 ValidationException naming the member, never its value.
 */
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { refusal, smClient } from './helpers.js';

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
  emu.putSecret({ name: 'bounds/s', region: 'us-east-1', string: 'v1' });
});
afterAll(async () => {
  await emu.stop();
});

const violation = (member: string, rule: string) => ({
  name: 'ValidationException',
  status: 400,
  message: `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length ${rule}`,
});

describe('Secrets Manager input bounds', () => {
  it('refuses a ClientRequestToken shorter than 32 or longer than 64 characters', async () => {
    const sm = smClient(emu);
    expect(await refusal(sm.send(new PutSecretValueCommand({ SecretId: 'bounds/s', SecretString: 'x', ClientRequestToken: 'short' })))).toEqual(
      violation('clientRequestToken', 'greater than or equal to 32'),
    );
    expect(await refusal(sm.send(new CreateSecretCommand({ Name: 'bounds/new', SecretString: 'x', ClientRequestToken: 'x'.repeat(65) })))).toEqual(
      violation('clientRequestToken', 'less than or equal to 64'),
    );
    expect((await sm.send(new PutSecretValueCommand({ SecretId: 'bounds/s', SecretString: 'x', ClientRequestToken: 'x'.repeat(32) }))).VersionId).toBe('x'.repeat(32));
  });

  it('refuses a GetSecretValue VersionId outside 32-64 characters with ValidationException, not ResourceNotFound', async () => {
    const sm = smClient(emu);
    expect(await refusal(sm.send(new GetSecretValueCommand({ SecretId: 'bounds/s', VersionId: 'v1' })))).toEqual(violation('versionId', 'greater than or equal to 32'));
    expect((await refusal(sm.send(new GetSecretValueCommand({ SecretId: 'bounds/s', VersionId: 'y'.repeat(36) })))).name).toBe('ResourceNotFoundException');
  });

  it('refuses a description over 2048 characters and a secret value over 65,536', async () => {
    const sm = smClient(emu);
    expect(await refusal(sm.send(new CreateSecretCommand({ Name: 'bounds/d', SecretString: 'x', Description: 'd'.repeat(2049) })))).toEqual(
      violation('description', 'less than or equal to 2048'),
    );
    const tooLong = await refusal(sm.send(new PutSecretValueCommand({ SecretId: 'bounds/s', SecretString: 's'.repeat(65_537) })));
    expect(tooLong).toEqual(violation('secretString', 'less than or equal to 65536'));
    expect(tooLong.message).not.toContain('sss');
    expect(await refusal(sm.send(new PutSecretValueCommand({ SecretId: 'bounds/s', SecretBinary: new Uint8Array(65_537) })))).toEqual(
      violation('secretBinary', 'less than or equal to 65536'),
    );
    await sm.send(new CreateSecretCommand({ Name: 'bounds/max', SecretString: 's'.repeat(65_536), Description: 'd'.repeat(2048) }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'bounds/max' }))).SecretString).toHaveLength(65_536);
  });
});
