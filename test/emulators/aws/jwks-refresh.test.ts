/**
 * Key rotation against an issuer trusted by JWKS URL: a token signed with a key the emulator does
 * not hold makes it refetch the JWKS. When the issuer cannot be reached, STS and the pod identity
 * agent answer as the real services do; a burst of such tokens costs the issuer one fetch; and an
 * issuer that never answers does not hold a token check open.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonWebKey } from 'node:crypto';
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../../../src/emulators/aws/index.js';
import { IssuerRegistry } from '../../../src/emulators/aws/jwt-verify.js';
import { createTestIssuer, stsClient } from './helpers.js';

const ROLE = 'arn:aws:iam::111122223333:role/rotating';

type JwksMode = { serve: { keys: JsonWebKey[] } } | 'drop-connection' | 'never-answer';

/** A fake OIDC issuer's JWKS endpoint whose behaviour the test switches, counting requests. */
interface JwksEndpoint {
  uri: string;
  hits(): number;
  set(mode: JwksMode): void;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startJwksEndpoint(initial: JwksMode): Promise<JwksEndpoint> {
  let mode = initial;
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits += 1;
    if (mode === 'never-answer') return;
    if (mode === 'drop-connection') {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(mode.serve));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { uri: `http://127.0.0.1:${port}/openid/v1/jwks`, hits: () => hits, set: (m) => void (mode = m) };
}

async function startEmulator(): Promise<AwsEmulator> {
  const emu = await startAwsEmulator();
  cleanups.push(() => emu.stop());
  return emu;
}

describe('JWKS refetch on an unknown key id', () => {
  it("answers STS InvalidIdentityToken \"Couldn't retrieve verification key\" and pod identity 500 while the issuer is down, and recovers", async () => {
    const original = createTestIssuer();
    const rotated = createTestIssuer(original.issuer); // same issuer, new key and key id
    const jwks = await startJwksEndpoint({ serve: original.jwks });
    const emu = await startEmulator();
    await emu.trustIssuer({ issuer: original.issuer, jwksUri: jwks.uri });
    emu.addRole({ roleArn: ROLE, trust: [{ namespace: 'app', serviceAccount: 'api' }], allow: {} });
    emu.addPodIdentityAssociation({ namespace: 'app', serviceAccount: 'api', roleArn: ROLE });
    const stsToken = rotated.mint({ namespace: 'app', serviceAccount: 'api', audience: 'sts.amazonaws.com' });
    const podToken = rotated.mint({ namespace: 'app', serviceAccount: 'api', audience: 'pods.eks.amazonaws.com' });
    const assume = () => stsClient(emu).send(new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE, RoleSessionName: 'rotation', WebIdentityToken: stsToken }));

    jwks.set('drop-connection');
    const refused = await assume().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(refused?.name).toBe('InvalidIdentityTokenException');
    expect(refused?.message).toMatch(/^Couldn't retrieve verification key from your identity provider/);
    const pod = await fetch(emu.podIdentityUrl, { headers: { authorization: podToken } });
    expect(pod.status).toBe(500);
    expect(await pod.json()).toMatchObject({ code: 'ServiceUnavailableException' });
    expect(emu.counters.count({ action: 'PodIdentityGetCredentials', outcome: 'unavailable' })).toBe(1);

    jwks.set({ serve: rotated.jwks });
    expect((await assume()).Credentials?.AccessKeyId).toMatch(/^ASIA/);
  });

  it('fetches the JWKS once for a burst of tokens signed with a new key', async () => {
    const original = createTestIssuer();
    const rotated = createTestIssuer(original.issuer);
    const jwks = await startJwksEndpoint({ serve: original.jwks });
    const issuers = new IssuerRegistry({ now: Date.now });
    await issuers.trust({ issuer: original.issuer, jwksUri: jwks.uri });
    jwks.set({ serve: rotated.jwks });
    const fetchesBefore = jwks.hits();

    const tokens = Array.from({ length: 5 }, (_, i) => rotated.mint({ namespace: 'app', serviceAccount: `sa${i}`, audience: 'sts.amazonaws.com' }));
    const checks = await Promise.all(tokens.map((t) => issuers.verify(t, 'sts.amazonaws.com')));
    expect(checks.map((c) => c.ok)).toEqual([true, true, true, true, true]);
    expect(jwks.hits() - fetchesBefore).toBe(1);
  });

  it('gives up on an issuer that never answers and reports its keys as unavailable', async () => {
    const original = createTestIssuer();
    const rotated = createTestIssuer(original.issuer);
    const jwks = await startJwksEndpoint({ serve: original.jwks });
    const issuers = new IssuerRegistry({ now: Date.now, jwksTimeoutMs: 50 });
    await issuers.trust({ issuer: original.issuer, jwksUri: jwks.uri });
    jwks.set('never-answer');

    const check = await issuers.verify(rotated.mint({ namespace: 'app', serviceAccount: 'api', audience: 'sts.amazonaws.com' }), 'sts.amazonaws.com');
    expect(check).toMatchObject({ ok: false, problem: 'issuer-keys-unavailable' });
  });
});
