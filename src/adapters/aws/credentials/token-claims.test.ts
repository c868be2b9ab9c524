import { describe, expect, it } from 'vitest';
import { checkTokenNamesIdentity } from './token-claims.js';
import { identityFor, unsignedToken } from '../testing/fakes.js';

const NOW = 1_700_000_000_000;

describe('checkTokenNamesIdentity', () => {
  it('accepts a token that names the identity and its pod', () => {
    const id = identityFor({ namespace: 'a', serviceAccount: 'app', podUid: 'p1' });
    expect(checkTokenNamesIdentity(id, NOW).sub).toBe('system:serviceaccount:a:app');
  });

  it('denies a token of another service account', () => {
    const id = identityFor({ namespace: 'a', serviceAccount: 'app', tokenFor: { namespace: 'b', serviceAccount: 'app' } });
    expect(() => checkTokenNamesIdentity(id, NOW)).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED', reason: 'TokenIdentityMismatch' }));
  });

  it('denies a pod-bound token presented for another pod', () => {
    const id = { ...identityFor({ namespace: 'a', serviceAccount: 'app', podUid: 'p1' }), podUid: 'p2' };
    expect(() => checkTokenNamesIdentity(id, NOW)).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }));
  });

  it('refuses a pod-bound token presented with no pod uid as INVALID_ARGUMENT naming csi.storage.k8s.io/pod.uid', () => {
    const id = { ...identityFor({ namespace: 'shop', serviceAccount: 'web', podUid: 'p1' }), podUid: '' };
    expect(() => checkTokenNamesIdentity(id, NOW)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        field: 'csi.storage.k8s.io/pod.uid',
        message: 'csi.storage.k8s.io/pod.uid is missing: the service account token is bound to a pod',
      }),
    );
  });

  it('rejects an expired token and a malformed one without echoing it', () => {
    const expired = identityFor({ namespace: 'a', serviceAccount: 'app', expSeconds: NOW / 1000 - 3600 });
    expect(() => checkTokenNamesIdentity(expired, NOW)).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED', reason: 'TokenExpired' }));
    const garbage = { ...expired, token: 'not-a-jwt-secret-material' };
    try {
      checkTokenNamesIdentity(garbage, NOW);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'InvalidToken' });
      expect(String((e as Error).message)).not.toContain('secret-material');
    }
  });

  it('accepts a token without pod binding or exp, with or without a pod uid', () => {
    const id = { ...identityFor({ namespace: 'a', serviceAccount: 'app' }), token: unsignedToken({ sub: 'system:serviceaccount:a:app' }) };
    expect(() => checkTokenNamesIdentity(id, NOW)).not.toThrow();
    expect(() => checkTokenNamesIdentity({ ...id, podUid: '' }, NOW)).not.toThrow();
  });
});
