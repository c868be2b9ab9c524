/**
 * SSM parameter name rules through the real SDK client, with AWS's codes and texts: the one long
 * ValidationException for a malformed name (GetParameter and PutParameter), AccessDeniedException
 * for a write under the reserved `aws` prefix, HierarchyLevelLimitExceededException past fifteen
 * levels, and the 1011-character limit that counts the ARN part before the name.
 */
import { GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { INVALID_NAME_MESSAGE } from '../../../src/emulators/aws/parameter-names.js';
import { refusal, ssmClient } from './helpers.js';

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
});
afterAll(async () => {
  await emu.stop();
});

const put = (Name: string) => ssmClient(emu).send(new PutParameterCommand({ Name, Value: 'v', Type: 'String' }));

describe('SSM parameter names', () => {
  it('refuses a malformed GetParameter name with ValidationException, not ParameterNotFound', async () => {
    const ssm = ssmClient(emu);
    for (const Name of ['audit/x/y', '/a b', '/a@b', '/ssm/x', 'SSMx', 'arn:aws:ssm:us-east-1:111122223333:parameter/a b']) {
      expect(await refusal(ssm.send(new GetParameterCommand({ Name })))).toEqual({ name: 'ValidationException', status: 400, message: INVALID_NAME_MESSAGE });
    }
  });

  it('keeps GetParameter of a well-formed missing name ParameterNotFound, /aws/ names included (public parameters live there)', async () => {
    const ssm = ssmClient(emu);
    for (const Name of ['/missing', 'missing', '/aws/service/missing']) {
      // AWS sends an empty message, which SDK v3 shows as "UnknownError".
      expect(await refusal(ssm.send(new GetParameterCommand({ Name })))).toEqual({ name: 'ParameterNotFound', status: 400, message: 'UnknownError' });
    }
  });

  it('refuses the same malformed names on PutParameter', async () => {
    for (const Name of ['audit/x/y', '/a b', '/a@b', '/ssm/x']) {
      expect(await refusal(put(Name))).toEqual({ name: 'ValidationException', status: 400, message: INVALID_NAME_MESSAGE });
    }
  });

  it('refuses a write under the reserved aws prefix with AccessDeniedException', async () => {
    expect(await refusal(put('awslimitschecker'))).toEqual({
      name: 'AccessDeniedException',
      status: 400,
      message: 'No access to reserved parameter name: awslimitschecker.',
    });
    expect((await refusal(put('/AWS/test'))).message).toBe('No access to reserved parameter name: AWS/test.');
  });

  it('allows fifteen hierarchy levels and refuses sixteen with HierarchyLevelLimitExceededException', async () => {
    const levels = (n: number) => Array.from({ length: n }, (_, i) => `/l${i + 1}`).join('');
    expect((await put(levels(15))).Version).toBe(1);
    const refused = await refusal(put(levels(16)));
    expect(refused).toMatchObject({ name: 'HierarchyLevelLimitExceededException', status: 400 });
    expect(refused.message).toMatch(/^A hierarchy can have a maximum of 15 levels\./);
  });

  it('counts the ARN part before the name in the 1011-character limit', async () => {
    const arnPrefix = 'arn:aws:ssm:us-east-1:111122223333:parameter/';
    const name = (arnLength: number) => `/${'n'.repeat(arnLength - arnPrefix.length)}`;
    expect((await put(name(1011))).Version).toBe(1);
    const refused = await refusal(put(name(1012)));
    expect(refused).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(refused.message).toContain('at most 1011 characters');
    expect(await refusal(put(`/${'n'.repeat(2048)}`))).toEqual({
      name: 'ValidationException',
      status: 400,
      message: "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048",
    });
  });
});
