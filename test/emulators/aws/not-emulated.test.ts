/**
 * Operations the emulator does not handle, and the two small ones it does beyond reads: a real AWS
 * operation that is not emulated keeps AWS's code (UnknownOperationException, InvalidAction for
 * STS) but says it exists in AWS and is not emulated; a name AWS does not know keeps AWS's
 * message. RestoreSecret and DeleteParameter work as in AWS.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  RestoreSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { refusal, smClient, ssmClient, stsClient } from './helpers.js';

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
});
afterAll(async () => {
  await emu.stop();
});

describe('operations that are not emulated', () => {
  it('says a real Secrets Manager or SSM operation exists in AWS, keeping UnknownOperationException', async () => {
    const listed = await refusal(smClient(emu).send(new ListSecretsCommand({})));
    expect(listed).toMatchObject({ name: 'UnknownOperationException', status: 400 });
    expect(listed.message).toMatch(/^ListSecrets is an AWS Secrets Manager operation, but this endpoint is secretlet's local AWS emulator and does not emulate it\./);
    expect(listed.message).toContain('GetSecretValue');
    const byPath = await refusal(ssmClient(emu).send(new GetParametersByPathCommand({ Path: '/app' })));
    expect(byPath).toMatchObject({ name: 'UnknownOperationException', status: 400 });
    expect(byPath.message).toMatch(/^GetParametersByPath is an AWS Systems Manager \(SSM\) operation/);
  });

  it('says the same of a real STS action, keeping InvalidAction', async () => {
    const assumed = await refusal(stsClient(emu).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/x', RoleSessionName: 's' })));
    expect(assumed).toMatchObject({ name: 'InvalidAction', status: 400 });
    expect(assumed.message).toContain('AssumeRole is an AWS STS operation');
    expect(assumed.message).toContain('Emulated STS operations: AssumeRoleWithWebIdentity, GetCallerIdentity.');
  });

  it("keeps AWS's message for an operation AWS does not have", async () => {
    const sm = smClient(emu);
    sm.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers: Record<string, string> };
        request.headers['x-amz-target'] = 'secretsmanager.NoSuchOperation';
        return next(args);
      },
      { step: 'build', priority: 'high' },
    );
    expect(await refusal(sm.send(new GetSecretValueCommand({ SecretId: 'x' })))).toEqual({
      name: 'UnknownOperationException',
      status: 400,
      message: 'Unknown operation NoSuchOperation',
    });
  });
});

describe('RestoreSecret and DeleteParameter', () => {
  it('restores a secret scheduled for deletion', async () => {
    const sm = smClient(emu);
    const created = await sm.send(new CreateSecretCommand({ Name: 'restore/me', SecretString: 'back' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'restore/me', RecoveryWindowInDays: 7 }));
    expect((await refusal(sm.send(new GetSecretValueCommand({ SecretId: 'restore/me' })))).name).toBe('InvalidRequestException');
    expect(await sm.send(new RestoreSecretCommand({ SecretId: 'restore/me' }))).toMatchObject({ ARN: created.ARN, Name: 'restore/me' });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'restore/me' }))).SecretString).toBe('back');
    expect((await refusal(sm.send(new RestoreSecretCommand({ SecretId: 'restore/none' })))).name).toBe('ResourceNotFoundException');
  });

  it('deletes a parameter, and answers a missing one with ParameterNotFound without a message', async () => {
    const ssm = ssmClient(emu);
    await ssm.send(new PutParameterCommand({ Name: '/delete/me', Value: 'v', Type: 'String' }));
    await ssm.send(new DeleteParameterCommand({ Name: '/delete/me' }));
    expect((await refusal(ssm.send(new GetParameterCommand({ Name: '/delete/me' })))).name).toBe('ParameterNotFound');
    // AWS sends an empty message here, which SDK v3 shows as "UnknownError", against AWS as here.
    expect(await refusal(ssm.send(new DeleteParameterCommand({ Name: '/delete/me' })))).toEqual({ name: 'ParameterNotFound', status: 400, message: 'UnknownError' });
    // A name can be used again once deleted, starting over at version 1.
    expect((await ssm.send(new PutParameterCommand({ Name: '/delete/me', Value: 'v2', Type: 'String' }))).Version).toBe(1);
  });
});
