/**
 * One request id per request: the `x-amzn-requestid` header and the `RequestId` in an STS (awsQuery)
 * XML answer name the same request, for success and error answers alike, as AWS does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { createTestIssuer, type TestIssuer } from './helpers.js';

const ROLE = 'arn:aws:iam::111122223333:role/request-id';

let emu: AwsEmulator;
let issuer: TestIssuer;
beforeAll(async () => {
  emu = await startAwsEmulator();
  issuer = createTestIssuer();
  await emu.trustIssuer(issuer);
  emu.addRole({ roleArn: ROLE, trust: [{ namespace: 'app', serviceAccount: 'api' }], allow: {} });
});
afterAll(async () => {
  await emu.stop();
});

async function assumeRaw(token: string): Promise<{ status: number; header: string | null; bodyId: string | undefined }> {
  const body = new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: ROLE, RoleSessionName: 'rid', WebIdentityToken: token });
  const res = await fetch(emu.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  const xml = await res.text();
  return { status: res.status, header: res.headers.get('x-amzn-requestid'), bodyId: /<RequestId>([^<]+)<\/RequestId>/.exec(xml)?.[1] };
}

describe('request ids', () => {
  it('puts the same id in the STS header and XML body, on success and on error', async () => {
    const ok = await assumeRaw(issuer.mint({ namespace: 'app', serviceAccount: 'api', audience: 'sts.amazonaws.com' }));
    expect(ok.status).toBe(200);
    expect(ok.bodyId).toBeDefined();
    expect(ok.header).toBe(ok.bodyId);

    const refused = await assumeRaw('not-a-jwt');
    expect(refused.status).toBe(400);
    expect(refused.header).toBe(refused.bodyId);
    expect(refused.bodyId).not.toBe(ok.bodyId);
  });
});
