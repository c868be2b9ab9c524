/**
 * Test helpers for the AWS emulator tests: an OIDC issuer with a real RSA key (node:crypto) that
 * mints service-account tokens, and SDK clients pointed at the emulator. Only real SDK clients
 * talk to the emulator in these tests.
 */
import type { HttpRequest } from '@smithy/protocol-http';
import { generateKeyPairSync, randomUUID, sign, type JsonWebKey } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';

export interface TestIssuer {
  issuer: string;
  jwks: { keys: JsonWebKey[] };
  /** Signs a token; `expiresInSeconds` may be negative for an expired one. */
  mint(claims: { namespace: string; serviceAccount: string; audience: string | string[]; expiresInSeconds?: number; now?: number }): string;
}

export function createTestIssuer(issuer = `https://oidc.test/${randomUUID()}`): TestIssuer {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  return {
    issuer,
    jwks: { keys: [jwk] },
    mint({ namespace, serviceAccount, audience, expiresInSeconds = 3600, now = Date.now() }) {
      const header = { alg: 'RS256', typ: 'JWT', kid };
      const iat = Math.floor(now / 1000);
      const claims = {
        iss: issuer,
        sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
        aud: audience,
        iat,
        exp: iat + expiresInSeconds,
        'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount } },
      };
      const encode = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
      const signed = `${encode(header)}.${encode(claims)}`;
      return `${signed}.${sign('RSA-SHA256', Buffer.from(signed), privateKey).toString('base64url')}`;
    },
  };
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** One attempt only: the tests observe each answer, not the SDK's retries. */
export function smClient(emu: AwsEmulator, region = 'us-east-1', credentials: Credentials = emu.adminCredentials): SecretsManagerClient {
  return new SecretsManagerClient({ endpoint: emu.url, region, credentials, maxAttempts: 1 });
}

export function ssmClient(emu: AwsEmulator, region = 'us-east-1', credentials: Credentials = emu.adminCredentials): SSMClient {
  return new SSMClient({ endpoint: emu.url, region, credentials, maxAttempts: 1 });
}

export function stsClient(emu: AwsEmulator, region = 'us-east-1'): STSClient {
  // AssumeRoleWithWebIdentity is unsigned; the SDK still wants a credential source configured.
  return new STSClient({ endpoint: emu.url, region, maxAttempts: 1, credentials: emu.adminCredentials });
}

/** The SDK error name of a rejected promise (fails the test if it resolves). */
export async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as Error).name;
  }
  throw new Error('expected the call to fail');
}

export interface Refusal {
  name: string;
  status: number | undefined;
  message: string;
}

/** What a user sees of a refused call: error name, HTTP status and message (fails the test if it resolves). */
export async function refusal(promise: Promise<unknown>): Promise<Refusal> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

/** An emulator that trusts a fresh test OIDC issuer, as a cluster's would be (roles are the test's to add). */
export async function startTrustingEmulator(options: Parameters<typeof startAwsEmulator>[0] = {}): Promise<{ emu: AwsEmulator; issuer: TestIssuer }> {
  const emu = await startAwsEmulator(options);
  const issuer = createTestIssuer();
  await emu.trustIssuer({ issuer: issuer.issuer, jwks: issuer.jwks });
  return { emu, issuer };
}

interface Rewritable {
  middlewareStack: { add(middleware: unknown, options: { step: 'build' | 'deserialize'; priority: 'high' | 'low' }): void };
}

/** Changes the client's request at `step`: `build` is before signing, `deserialize` after. */
export function rewriting<C>(client: C, step: 'build' | 'deserialize', change: (request: HttpRequest) => void): C {
  (client as Rewritable).middlewareStack.add(
    (next: (args: { request: HttpRequest }) => Promise<unknown>) => async (args: { request: HttpRequest }) => {
      change(args.request);
      return next(args);
    },
    { step, priority: step === 'build' ? 'high' : 'low' },
  );
  return client;
}
