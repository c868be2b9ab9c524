/**
 * AssumeRoleWithWebIdentity input checks through the real SDK client, worded as STS words them:
 * a RoleArn shorter than the model allows, an ARN that is not a role's ("Request ARN is invalid",
 * 400, not AccessDenied), and DurationSeconds below 900 or above 43200, each bound on its own.
 */
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEmulator } from '../../../src/emulators/aws/index.js';
import { startTrustingEmulator, refusal, stsClient, type TestIssuer } from './helpers.js';

const ROLE = 'arn:aws:iam::111122223333:role/validated';

let emu: AwsEmulator;
let issuer: TestIssuer;
beforeAll(async () => {
  ({ emu, issuer } = await startTrustingEmulator());
  emu.addRole({ roleArn: ROLE, trust: [{ namespace: 'ns', serviceAccount: 'sa' }], allow: {}, maxSessionDurationSeconds: 43_200 });
});
afterAll(async () => {
  await emu.stop();
});

function assume(input: { RoleArn?: string; DurationSeconds?: number }) {
  const token = issuer.mint({ namespace: 'ns', serviceAccount: 'sa', audience: 'sts.amazonaws.com' });
  return stsClient(emu).send(new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE, RoleSessionName: 'validation', WebIdentityToken: token, ...input }));
}

describe('STS AssumeRoleWithWebIdentity input', () => {
  it('answers an ARN that is not a role ARN with ValidationError 400 "Request ARN is invalid"', async () => {
    for (const RoleArn of ['arn:aws:iam::111122223333:oidc-provider/issuer.test', 'arn:aws:iam::111122223333:user/someone']) {
      expect(await refusal(assume({ RoleArn }))).toEqual({ name: 'ValidationError', status: 400, message: 'Request ARN is invalid' });
    }
  });

  it('answers a RoleArn shorter than 20 characters with the model length error', async () => {
    expect(await refusal(assume({ RoleArn: 'abc' }))).toEqual({
      name: 'ValidationError',
      status: 400,
      message: "1 validation error detected: Value 'abc' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20",
    });
  });

  it('keeps AccessDenied for a well-formed role ARN the token may not assume', async () => {
    expect(await refusal(assume({ RoleArn: 'arn:aws:iam::111122223333:role/other' }))).toMatchObject({ name: 'AccessDenied', status: 403 });
  });

  it('words each DurationSeconds bound as STS does', async () => {
    const prefix = "1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value";
    expect(await refusal(assume({ DurationSeconds: 899 }))).toEqual({
      name: 'ValidationError',
      status: 400,
      message: `${prefix.replace('%d', '899')} greater than or equal to 900`,
    });
    expect((await refusal(assume({ DurationSeconds: 43_201 }))).message).toBe(`${prefix.replace('%d', '43201')} less than or equal to 43200`);
    expect((await assume({ DurationSeconds: 900 })).Credentials?.AccessKeyId).toBeTruthy();
  });
});
