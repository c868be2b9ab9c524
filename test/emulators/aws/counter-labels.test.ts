/**
 * What the call counters record for requests the emulator cannot vouch for. Only verified callers
 * are counted under their own identity; a token that was not verified, an operation the service
 * does not have and a scope region that is not region-shaped are counted under fixed labels, so a
 * forged token cannot be booked against a real service account and a stream of made-up names
 * cannot grow the counters (each distinct name used to be a new entry, without bound).
 */
import { GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { CallCounter } from '../../../src/emulators/aws/counters.js';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { errorName, rewriting, smClient, startTrustingEmulator, stsClient } from './helpers.js';

const running: AwsEmulator[] = [];
async function start(): Promise<AwsEmulator> {
  const emu = await startAwsEmulator();
  running.push(emu);
  return emu;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

/** A JWT-shaped token naming `sub`, signed by no one the emulator trusts. */
function forgedToken(sub: string): string {
  const claims = Buffer.from(JSON.stringify({ sub, aud: 'sts.amazonaws.com' })).toString('base64url');
  return `e30.${claims}.x`;
}

describe('counted identity', () => {
  it('counts an AssumeRoleWithWebIdentity with an unverified token as anonymous, whatever subject it claims', async () => {
    const { emu } = await startTrustingEmulator();
    running.push(emu);
    const subjects = ['system:serviceaccount:shop:web', 'a', 'b'.repeat(10_000)];
    for (const sub of subjects) {
      const assume = new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::111122223333:role/x', RoleSessionName: 'ab', WebIdentityToken: forgedToken(sub) });
      expect(await errorName(stsClient(emu).send(assume))).toBe('InvalidIdentityTokenException');
    }
    expect(emu.counters.byIdentity()).toEqual({ anonymous: { AssumeRoleWithWebIdentity: 3 } });
  });

  it('counts a pod identity request with an unverified token as anonymous', async () => {
    const emu = await start();
    for (const sub of ['system:serviceaccount:shop:web', 'c'.repeat(10_000)]) {
      const res = await fetch(emu.podIdentityUrl, { headers: { authorization: forgedToken(sub) } });
      expect(res.status).toBe(400);
    }
    expect(emu.counters.byIdentity()).toEqual({ anonymous: { PodIdentityGetCredentials: 2 } });
  });

  it('still counts a verified token under its service account when the call is then refused', async () => {
    const { emu, issuer } = await startTrustingEmulator();
    running.push(emu);
    const token = issuer.mint({ namespace: 'ns', serviceAccount: 'sa', audience: 'pods.eks.amazonaws.com' });
    expect((await fetch(emu.podIdentityUrl, { headers: { authorization: token } })).status).toBe(403);
    expect(emu.counters.count({ identity: 'system:serviceaccount:ns:sa', action: 'PodIdentityGetCredentials', outcome: 'denied' })).toBe(1);
  });
});

describe('counted action and region', () => {
  it('counts an X-Amz-Target operation the service does not have as unknown, and real ones by name', async () => {
    const emu = await start();
    for (const madeUp of ['A1', `A2${'y'.repeat(14_000)}`, 'constructor']) {
      const sm = rewriting(smClient(emu), 'build', (request) => {
        request.headers['x-amz-target'] = `secretsmanager.${madeUp}`;
      });
      expect(await errorName(sm.send(new GetSecretValueCommand({ SecretId: 'x' })))).toBe('UnknownOperationException');
    }
    await errorName(smClient(emu).send(new ListSecretsCommand({})));
    await errorName(smClient(emu).send(new GetSecretValueCommand({ SecretId: 'missing' })));
    expect(emu.counters.byAction()).toEqual({ unknown: 3, ListSecrets: 1, GetSecretValue: 1 });
    expect(emu.counters.byIdentity()).toEqual({ admin: { unknown: 3, ListSecrets: 1, GetSecretValue: 1 } });
  });

  it('counts an STS Action that STS does not have as unknown', async () => {
    const emu = await start();
    for (const action of ['Nope1', 'Nope2']) {
      const res = await fetch(emu.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `Action=${action}&Version=2011-06-15`,
      });
      expect(res.status).toBe(403);
    }
    expect(emu.counters.byAction()).toEqual({ unknown: 2 });
  });

  it('counts a credential scope region that is not region-shaped as invalid', async () => {
    const emu = await start();
    const odd = 'r'.repeat(40);
    const sm = rewriting(smClient(emu), 'deserialize', (request) => {
      request.headers.authorization = String(request.headers.authorization).replace('/us-east-1/', `/${odd}/`);
    });
    expect(await errorName(sm.send(new GetSecretValueCommand({ SecretId: 'x' })))).toBe('InvalidSignatureException');
    expect(emu.counters.count({ region: 'invalid' })).toBe(1);
    expect(emu.counters.count({ region: odd })).toBe(0);
  });
});

describe('distinct records cap', () => {
  it('folds who and where past the cap but keeps totals, actions and outcomes exact', () => {
    const counter = new CallCounter({ maxRecords: 3 });
    for (let i = 0; i < 10; i++) counter.record({ action: 'GetSecretValue', identity: `system:serviceaccount:ns:sa${i}`, outcome: 'ok', region: 'us-east-1' });
    counter.record({ action: 'GetParameters', identity: 'admin', outcome: 'denied', region: 'us-east-2' });
    expect(Object.keys(counter.byIdentity())).toEqual(['system:serviceaccount:ns:sa0', 'system:serviceaccount:ns:sa1', 'system:serviceaccount:ns:sa2', 'overflow']);
    expect(counter.total()).toBe(11);
    expect(counter.byAction()).toEqual({ GetSecretValue: 10, GetParameters: 1 });
    expect(counter.byOutcome()).toEqual({ ok: 10, denied: 1 });
    // A combination counted before the cap keeps counting under its own labels.
    counter.record({ action: 'GetSecretValue', identity: 'system:serviceaccount:ns:sa1', outcome: 'ok', region: 'us-east-1' });
    expect(counter.count({ identity: 'system:serviceaccount:ns:sa1' })).toBe(2);
  });
});
