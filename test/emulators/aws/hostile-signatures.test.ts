/**
 * SigV4 requests whose signed parts are odd but well-formed enough to reach the signature check: a
 * SignedHeaders entry named like a member of every JavaScript object (`constructor`), query keys
 * named so, and a request target no URL parser accepts. AWS refuses the first and last as a bad
 * signature (400 InvalidSignatureException; STS 403 SignatureDoesNotMatch) and serves the second;
 * none of them may turn into the emulator's own 500.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { refusal, rewriting, smClient, stsClient } from './helpers.js';

let emu: AwsEmulator;
beforeAll(async () => {
  emu = await startAwsEmulator();
  emu.putSecret({ name: 'app/key', region: 'us-east-1', string: 'v' });
});
afterAll(async () => {
  await emu.stop();
});

/** The signed request, sent with its SignedHeaders list replaced (same key, scope and date). */
function signingOnly<C>(client: C, signedHeaders: string): C {
  return rewriting(client, 'deserialize', (request) => {
    request.headers.authorization = String(request.headers.authorization).replace(/SignedHeaders=[^,]+/, `SignedHeaders=${signedHeaders}`);
  });
}

/** The signed request, sent to `target` instead of `/`. */
function sentTo<C>(client: C, target: string): C {
  return rewriting(client, 'deserialize', (request) => {
    request.path = target;
  });
}

const getSecret = new GetSecretValueCommand({ SecretId: 'app/key' });

describe('signed headers named like object members', () => {
  it('refuses SignedHeaders=constructor as a bad signature', async () => {
    for (const names of ['constructor', '__proto__;host', 'toString;host;x-amz-date']) {
      expect(await refusal(signingOnly(smClient(emu), names).send(getSecret))).toMatchObject({ name: 'InvalidSignatureException', status: 400 });
      expect(await refusal(signingOnly(stsClient(emu), names).send(new GetCallerIdentityCommand({})))).toMatchObject({
        name: 'SignatureDoesNotMatch',
        status: 403,
      });
    }
  });

  it('serves a correctly signed request whose query has keys named like object members', async () => {
    const sm = rewriting(smClient(emu), 'build', (request) => {
      // A computed key makes `__proto__` an own member, as the query string carries it.
      request.query = { constructor: '1', ['__proto__']: '2', toString: ['a', 'b'] };
    });
    expect((await sm.send(getSecret)).SecretString).toBe('v');
  });
});

describe('request targets no URL parser accepts', () => {
  it('refuses them as a bad signature in each protocol, not as a server failure', async () => {
    for (const target of ['//[', 'http://[::1']) {
      expect(await refusal(sentTo(smClient(emu), target).send(getSecret))).toMatchObject({ name: 'InvalidSignatureException', status: 400 });
      expect(await refusal(sentTo(stsClient(emu), target).send(new GetCallerIdentityCommand({})))).toMatchObject({
        name: 'SignatureDoesNotMatch',
        status: 403,
      });
    }
  });
});
