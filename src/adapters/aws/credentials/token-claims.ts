/**
 * The guard that keeps one service account's credentials away from another. The credential cache may
 * answer without asking STS or the agent, so before a token is used or a cached credential is served,
 * the token's own claims must name the identity the request claims to be. The signature is not checked
 * here: STS / the agent do that when the token is actually presented; this check only prevents a
 * mix-up (identity says SA A, token says SA B) from being answered out of the cache.
 */
import { SecretletError, invalidArgument } from '../../../core/errors.js';
import type { AwsIdentity } from '../../../core/model.js';
import { ATTR_POD_UID } from '../../../core/spc/attributes.js';

export interface TokenClaims {
  sub: string;
  /** Epoch milliseconds, when the token has an `exp` claim. */
  expiresAt?: number;
  podUid?: string;
}

/** Tolerated difference between our clock and the token issuer's. */
const CLOCK_SKEW_MS = 30_000;

function malformed(what: string): SecretletError {
  return new SecretletError({
    code: 'UNAUTHENTICATED',
    reason: 'InvalidToken',
    message: `service account token is not a valid JWT: ${what}`,
  });
}

/** Decodes the payload of a JWT without verifying it. Never includes the token in errors. */
export function decodeTokenClaims(token: string): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined || parts[1] === '') throw malformed('expected three dot-separated parts');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw malformed('payload is not base64url JSON');
  }
  if (typeof payload !== 'object' || payload === null) throw malformed('payload is not an object');
  const p = payload as Record<string, unknown>;
  if (typeof p.sub !== 'string') throw malformed('missing sub claim');
  const k8s = p['kubernetes.io'];
  const pod = typeof k8s === 'object' && k8s !== null ? (k8s as Record<string, unknown>).pod : undefined;
  const uid = typeof pod === 'object' && pod !== null ? (pod as Record<string, unknown>).uid : undefined;
  return {
    sub: p.sub,
    ...(typeof p.exp === 'number' ? { expiresAt: p.exp * 1000 } : {}),
    ...(typeof uid === 'string' ? { podUid: uid } : {}),
  };
}

/**
 * Checks that `identity.token` names `identity` (subject, and pod uid when the token is pod-bound) and
 * has not expired. Throws PERMISSION_DENIED on a mismatch, UNAUTHENTICATED on a bad or expired token,
 * INVALID_ARGUMENT when the token is pod-bound and the request names no pod uid.
 */
export function checkTokenNamesIdentity(identity: AwsIdentity, nowMs: number): TokenClaims {
  const claims = decodeTokenClaims(identity.token);
  const expected = `system:serviceaccount:${identity.namespace}:${identity.serviceAccount}`;
  if (claims.sub !== expected) {
    throw new SecretletError({
      code: 'PERMISSION_DENIED',
      reason: 'TokenIdentityMismatch',
      message: `service account token does not belong to service account ${identity.serviceAccount} (namespace: ${identity.namespace})`,
    });
  }
  // A pod-bound token with no pod uid to hold it against. ASCP checks no binding at all; this
  // check is our hardening, and skipping it whenever the uid is missing would let any request that
  // leaves the attribute out bypass it. Nor is it a kubelet quirk to tolerate: kubelet always sends
  // the uid (podInfoOnMount), and the provider door gets it from the driver. So the request is
  // malformed: say which attribute is missing rather than deny "another pod than " (blank).
  if (claims.podUid !== undefined && identity.podUid === '') {
    throw invalidArgument('MissingPodUid', `${ATTR_POD_UID} is missing: the service account token is bound to a pod`, ATTR_POD_UID);
  }
  if (claims.podUid !== undefined && claims.podUid !== identity.podUid) {
    throw new SecretletError({
      code: 'PERMISSION_DENIED',
      reason: 'TokenIdentityMismatch',
      message: `service account token of ${identity.namespace}/${identity.serviceAccount} is bound to another pod than ${identity.podUid}`,
    });
  }
  if (claims.expiresAt !== undefined && claims.expiresAt + CLOCK_SKEW_MS <= nowMs) {
    throw new SecretletError({
      code: 'UNAUTHENTICATED',
      reason: 'TokenExpired',
      message: `service account token of ${identity.namespace}/${identity.serviceAccount} has expired`,
    });
  }
  return claims;
}
