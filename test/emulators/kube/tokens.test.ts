/**
 * TokenRequest and the issuer's OIDC documents: tokens verify against the served JWKS with
 * node:crypto and carry the claims IAM and the AWS provider read.
 */
import { createPublicKey, verify } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, rawRequest, startWithClients } from './helpers.js';
import type { Clients } from './helpers.js';

let c: Clients;
beforeAll(async () => {
  c = await startWithClients({}, ['apps', 'ns']);
});
afterAll(async () => {
  await c.emulator.stop();
});

/** Verifies an RS256 JWT against a JWKS the way an OIDC relying party does; returns its claims. */
function verifyJwt(token: string, jwks: { keys: JsonWebKey[] }): Record<string, unknown> {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string; alg: string };
  expect(alg).toBe('RS256');
  const jwk = jwks.keys.find((k) => k['kid'] === kid);
  if (jwk === undefined) throw new Error(`no key ${kid} in the JWKS`);
  const ok = verify('sha256', Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'));
  expect(ok).toBe(true);
  return JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
}

describe('TokenRequest', () => {
  it('mints a pod-bound token that verifies against the JWKS served over HTTP', async () => {
    const sa = await c.core.createNamespacedServiceAccount({ namespace: 'apps', body: { metadata: { name: 'web-sa' } } });
    const pod = await c.core.createNamespacedPod({
      namespace: 'apps',
      body: { metadata: { name: 'web-0' }, spec: { serviceAccountName: 'web-sa', containers: [{ name: 'c', image: 'x' }] } },
    });
    const tr = await c.core.createNamespacedServiceAccountToken({
      name: 'web-sa',
      namespace: 'apps',
      body: { spec: { audiences: ['sts.amazonaws.com'], expirationSeconds: 900, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid: pod.metadata?.uid } } },
    });
    const jwks = JSON.parse((await rawRequest(c.emulator, '/openid/v1/jwks')).body) as { keys: JsonWebKey[] };
    expect(jwks).toEqual(c.emulator.jwks());
    const claims = verifyJwt(tr.status?.token ?? '', jwks);
    expect(claims).toMatchObject({
      iss: c.emulator.issuer,
      sub: 'system:serviceaccount:apps:web-sa',
      aud: ['sts.amazonaws.com'],
      'kubernetes.io': { namespace: 'apps', serviceaccount: { name: 'web-sa', uid: sa.metadata?.uid }, pod: { name: 'web-0', uid: pod.metadata?.uid } },
    });
    expect(Number(claims['exp']) - Number(claims['iat'])).toBe(900);
    expect(tr.status?.expirationTimestamp).toEqual(new Date(Number(claims['exp']) * 1000));
  });

  it('defaults the audience to the API server and lets that token call the API', async () => {
    await c.core.createNamespacedServiceAccount({ namespace: 'apps', body: { metadata: { name: 'agent' } } });
    const tr = await c.core.createNamespacedServiceAccountToken({ name: 'agent', namespace: 'apps', body: { spec: { audiences: [] } } });
    const claims = verifyJwt(tr.status?.token ?? '', c.emulator.jwks());
    expect(claims['aud']).toEqual(['https://kubernetes.default.svc']);
    const res = await rawRequest(c.emulator, '/api/v1/namespaces/apps/serviceaccounts', { token: tr.status?.token ?? '' });
    expect(res.code).toBe(200);
  });

  it('refuses a missing service account, a recreated pod and a too short lifetime', async () => {
    expect((await failure(c.core.createNamespacedServiceAccountToken({ name: 'ghost', namespace: 'apps', body: { spec: { audiences: ['x'] } } }))).code).toBe(404);
    await c.core.createNamespacedServiceAccount({ namespace: 'apps', body: { metadata: { name: 'strict' } } });
    await c.core.createNamespacedPod({ namespace: 'apps', body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
    const stale = await failure(
      c.core.createNamespacedServiceAccountToken({ name: 'strict', namespace: 'apps', body: { spec: { audiences: ['x'], boundObjectRef: { kind: 'Pod', name: 'p', uid: 'old-uid' } } } }),
    );
    expect(stale.code).toBe(409);
    const short = await failure(c.core.createNamespacedServiceAccountToken({ name: 'strict', namespace: 'apps', body: { spec: { audiences: ['x'], expirationSeconds: 60 } } }));
    expect(short.code).toBe(422);
  });

  it('mints tokens for tests that play kubelet, with the injected clock', async () => {
    const fixed = Date.parse('2030-01-01T00:00:00Z');
    const emulator = (await startWithClients({ now: () => fixed, tls: false })).emulator;
    try {
      const minted = emulator.mintServiceAccountToken({ namespace: 'ns', serviceAccount: 'sa', audiences: ['pods.eks.amazonaws.com'], podName: 'p', podUid: 'uid-1', expirationSeconds: 3600 });
      expect(minted.expirationTimestamp).toBe('2030-01-01T01:00:00Z');
      const claims = verifyJwt(minted.token, emulator.jwks());
      expect(claims).toMatchObject({ iat: fixed / 1000, sub: 'system:serviceaccount:ns:sa', 'kubernetes.io': { pod: { name: 'p', uid: 'uid-1' } } });
      expect(emulator.url.startsWith('http://')).toBe(true);
    } finally {
      await emulator.stop();
    }
  });
});
