/**
 * Role unique ids through the real STS client: each role has its own stable `AROA…` id (17
 * upper-case letters and digits, as IAM's), and a session's AssumedRoleId equals the UserId
 * GetCallerIdentity reports for the credentials it came with (`<role id>:<session>`).
 */
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsEmulator } from '../../../src/emulators/aws/index.js';
import { startTrustingEmulator, stsClient, type TestIssuer } from './helpers.js';

// Same name length on purpose: the ids must not follow from the name's length.
const READER = 'arn:aws:iam::111122223333:role/reader';
const WRITER = 'arn:aws:iam::111122223333:role/writer';

let emu: AwsEmulator;
let issuer: TestIssuer;
beforeAll(async () => {
  ({ emu, issuer } = await startTrustingEmulator());
  for (const roleArn of [READER, WRITER]) emu.addRole({ roleArn, trust: [{ namespace: 'ns', serviceAccount: 'sa' }], allow: {} });
});
afterAll(async () => {
  await emu.stop();
});

/** Assumes the role, then asks STS who the new credentials are. */
async function session(roleArn: string, sessionName: string): Promise<{ assumedRoleId: string; userId: string }> {
  const token = issuer.mint({ namespace: 'ns', serviceAccount: 'sa', audience: 'sts.amazonaws.com' });
  const out = await stsClient(emu).send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: sessionName, WebIdentityToken: token }));
  const c = out.Credentials!;
  const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
  const me = await new STSClient({ endpoint: emu.url, region: 'us-east-1', credentials, maxAttempts: 1 }).send(new GetCallerIdentityCommand({}));
  return { assumedRoleId: out.AssumedRoleUser!.AssumedRoleId!, userId: me.UserId! };
}

describe('role unique ids', () => {
  it("reports a session's AssumedRoleId as GetCallerIdentity's UserId, in IAM's form", async () => {
    const { assumedRoleId, userId } = await session(READER, 'first');
    expect(assumedRoleId).toMatch(/^AROA[A-Z0-9]{17}:first$/);
    expect(userId).toBe(assumedRoleId);
  });

  it('keeps one id per role across sessions, and gives each role its own', async () => {
    const idOf = (s: { assumedRoleId: string }): string => s.assumedRoleId.split(':')[0]!;
    const reader1 = await session(READER, 'one');
    const reader2 = await session(READER, 'two');
    const writer = await session(WRITER, 'one');
    expect(idOf(reader2)).toBe(idOf(reader1));
    expect(idOf(writer)).not.toBe(idOf(reader1));
  });
});
