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
    await c.core.createNamespacedPod({ namespace: 'apps', body: { metadata: { name: 'p' }, spec: { serviceAccountName: 'strict', containers: [{ name: 'c', image: 'x' }] } } });
    const stale = await failure(
      c.core.createNamespacedServiceAccountToken({ name: 'strict', namespace: 'apps', body: { spec: { audiences: ['x'], boundObjectRef: { kind: 'Pod', name: 'p', uid: 'old-uid' } } } }),
    );
    expect(stale.code).toBe(409);
    const short = await failure(c.core.createNamespacedServiceAccountToken({ name: 'strict', namespace: 'apps', body: { spec: { audiences: ['x'], expirationSeconds: 60 } } }));
    expect(short.code).toBe(422);
  });

  it('binds a token to a pod only when the pod exists and runs as the requested service account', async () => {
    await c.core.createNamespacedServiceAccount({ namespace: 'apps', body: { metadata: { name: 'binder' } } });
    const request = (boundObjectRef: Record<string, string>) =>
      failure(c.core.createNamespacedServiceAccountToken({ name: 'binder', namespace: 'apps', body: { spec: { audiences: ['x'], boundObjectRef } as never } }));

    const missing = await request({ kind: 'Pod', apiVersion: 'v1', name: 'no-such-pod' });
    expect(missing.status).toMatchObject({ code: 404, reason: 'NotFound', message: 'pods "no-such-pod" not found', details: { name: 'no-such-pod', kind: 'pods' } });

    await c.core.createNamespacedPod({ namespace: 'apps', body: { metadata: { name: 'runs-as-default' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
    const otherAccount = await request({ kind: 'Pod', apiVersion: 'v1', name: 'runs-as-default' });
    expect(otherAccount.status).toMatchObject({
      code: 400,
      reason: 'BadRequest',
      message: 'cannot bind token for serviceaccount "binder" to pod running with different serviceaccount name.',
    });

    const deployment = await request({ kind: 'Deployment', apiVersion: 'apps/v1', name: 'web' });
    expect(deployment.status).toMatchObject({ code: 400, reason: 'BadRequest', message: 'cannot bind token to object of type apps/v1, Kind=Deployment' });
  });

  it('binds a token to a Secret or a Node, naming it in the claims', async () => {
    await c.core.createNamespacedServiceAccount({ namespace: 'apps', body: { metadata: { name: 'bound' } } });
    const secret = await c.core.createNamespacedSecret({ namespace: 'apps', body: { metadata: { name: 'anchor' } } });
    const node = await c.core.createNode({ body: { metadata: { name: 'token-node' } } });
    const mint = async (boundObjectRef: Record<string, string>) =>
      verifyJwt(
        (await c.core.createNamespacedServiceAccountToken({ name: 'bound', namespace: 'apps', body: { spec: { audiences: ['x'], boundObjectRef } as never } })).status?.token ?? '',
        c.emulator.jwks(),
      );
    expect(await mint({ kind: 'Secret', apiVersion: 'v1', name: 'anchor' })).toMatchObject({ 'kubernetes.io': { secret: { name: 'anchor', uid: secret.metadata?.uid } } });
    expect(await mint({ kind: 'Node', apiVersion: 'v1', name: 'token-node' })).toMatchObject({ 'kubernetes.io': { node: { name: 'token-node', uid: node.metadata?.uid } } });
  });

  it('refuses a lifetime that is not a whole number of seconds with 400, and one beyond 2^32 seconds with 422', async () => {
    await c.core.createNamespacedServiceAccount({ namespace: 'apps', body: { metadata: { name: 'lifetimes' } } });
    const tokenRequest = (spec: Record<string, unknown>) =>
      rawRequest(c.emulator, '/api/v1/namespaces/apps/serviceaccounts/lifetimes/token', {
        method: 'POST',
        token: c.emulator.token,
        contentType: 'application/json',
        body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec }),
      });
    for (const expirationSeconds of ['3600', 1e300, 900.5]) {
      const refused = await tokenRequest({ expirationSeconds });
      expect(refused.code).toBe(400);
      expect(JSON.parse(refused.body)).toMatchObject({ reason: 'BadRequest', message: expect.stringContaining('spec.expirationSeconds of type int64') });
    }
    const huge = await tokenRequest({ expirationSeconds: 2 ** 40 });
    expect(huge.code).toBe(422);
    expect(JSON.parse(huge.body)).toMatchObject({
      reason: 'Invalid',
      message: `TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: ${2 ** 40}: may not specify a duration larger than 2^32 seconds`,
      details: { group: 'authentication.k8s.io', kind: 'TokenRequest', causes: [{ reason: 'FieldValueInvalid', field: 'spec.expirationSeconds' }] },
    });
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
