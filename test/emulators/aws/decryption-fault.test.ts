/**
 * The `decryption` fault: Secrets Manager cannot decrypt a secret's value (KMS refused), seen through
 * the real SDK. GetSecretValue fails with DecryptionFailure; in BatchGetSecretValue only the affected
 * secret becomes an `Errors[]` entry. Calls that decrypt nothing are untouched.
 */
import { BatchGetSecretValueCommand, DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { refusal, smClient, ssmClient } from './helpers.js';

const REGION = 'us-east-1';
const MESSAGE = "Secrets Manager can't decrypt the protected secret text using the provided KMS key.";

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
  emu.putSecret({ name: 'app/a', region: REGION, string: 'value-a' });
  emu.putSecret({ name: 'app/b', region: REGION, string: 'value-b' });
  emu.putParameter({ name: '/app/p', region: REGION, value: 'p' });
});
afterEach(() => {
  emu.faults.clear();
});
afterAll(async () => {
  await emu.stop();
});

describe('decryption fault', () => {
  it('fails GetSecretValue with DecryptionFailure for the given count, then decrypts again', async () => {
    emu.faults.inject({ kind: 'decryption', action: 'GetSecretValue', count: 1 });
    const sm = smClient(emu);
    const refused = await refusal(sm.send(new GetSecretValueCommand({ SecretId: 'app/a' })));
    expect(refused).toEqual({ name: 'DecryptionFailure', status: 400, message: MESSAGE });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'app/a' }))).SecretString).toBe('value-a');
  });

  it('turns only the named secret of a batch into an Errors[] entry', async () => {
    emu.faults.inject({ kind: 'decryption', secretId: 'app/b' });
    const out = await smClient(emu).send(new BatchGetSecretValueCommand({ SecretIdList: ['app/a', 'app/b'] }));
    expect(out.SecretValues?.map((v) => v.Name)).toEqual(['app/a']);
    expect(out.Errors).toEqual([{ SecretId: 'app/b', ErrorCode: 'DecryptionFailure', Message: MESSAGE }]);
  });

  it('leaves calls that decrypt nothing alone', async () => {
    emu.faults.inject({ kind: 'decryption' });
    expect((await smClient(emu).send(new DescribeSecretCommand({ SecretId: 'app/a' }))).Name).toBe('app/a');
    expect((await ssmClient(emu).send(new GetParameterCommand({ Name: '/app/p' }))).Parameter?.Value).toBe('p');
    expect(() => emu.faults.inject({ kind: 'decryption', action: 'GetParameter' })).toThrow(TypeError);
  });
});
