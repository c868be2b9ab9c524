/**
 * Verifies Kubernetes service-account tokens the way STS (AssumeRoleWithWebIdentity) and EKS Auth
 * (pod identity) do: an RS256 JWT signed by a key of a trusted OIDC issuer's JWKS, with the
 * expected audience, not expired, and a `system:serviceaccount:<ns>:<sa>` subject.
 *
 * Failures are returned as a `TokenProblem` kind, not thrown as wire errors: STS and the pod identity
 * agent word and encode them differently.
 */
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { fetchJwks, JWKS_FETCH_TIMEOUT_MS } from './jwks-fetch.js';
import type { TrustedIssuer, TrustedIssuerByUri } from './types.js';

export interface VerifiedToken {
  issuer: string;
  subject: string;
  namespace: string;
  serviceAccount: string;
  /** The audience that matched. */
  audience: string;
  expiresAt: number;
}

export type TokenProblem =
  | 'malformed'
  | 'untrusted-issuer'
  | 'bad-signature'
  /** The token names a key the verifier does not hold and the issuer's JWKS could not be fetched. */
  | 'issuer-keys-unavailable'
  | 'wrong-audience'
  | 'expired'
  | 'not-yet-valid'
  | 'bad-subject';

export type TokenCheck = { ok: true; token: VerifiedToken } | { ok: false; problem: TokenProblem; message: string };

interface IssuerKeys {
  jwksUri?: string;
  keys: Array<{ kid?: string; key: KeyObject }>;
  /** The JWKS refetch under way, shared by every token that waits for it. */
  refreshing?: Promise<void>;
}

type SignatureCheck = 'valid' | 'invalid' | 'keys-unavailable';

interface JwtParts {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signedPart: string;
  signature: Buffer;
}

const SUBJECT_PATTERN = /^system:serviceaccount:([^:]+):([^:]+)$/;

function splitJwt(token: string): JwtParts | undefined {
  const parts = token.trim().split('.');
  if (parts.length !== 3) return undefined;
  const [h, c, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) return undefined;
    return {
      header: header as Record<string, unknown>,
      claims: claims as Record<string, unknown>,
      signedPart: `${h}.${c}`,
      signature: Buffer.from(s, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

function toKeys(jwks: { keys: JsonWebKey[] }): IssuerKeys['keys'] {
  return jwks.keys
    .filter((k) => k.kty === 'RSA')
    .map((k) => {
      const kid = (k as { kid?: unknown }).kid;
      return { ...(typeof kid === 'string' ? { kid } : {}), key: createPublicKey({ key: k, format: 'jwk' }) };
    });
}

export class IssuerRegistry {
  readonly #issuers = new Map<string, IssuerKeys>();
  readonly #now: () => number;
  readonly #jwksTimeoutMs: number;

  /** @param options.jwksTimeoutMs bound of one JWKS fetch. @default JWKS_FETCH_TIMEOUT_MS */
  constructor(options: { now: () => number; jwksTimeoutMs?: number }) {
    this.#now = options.now;
    this.#jwksTimeoutMs = options.jwksTimeoutMs ?? JWKS_FETCH_TIMEOUT_MS;
  }

  async trust(issuer: TrustedIssuer | TrustedIssuerByUri): Promise<void> {
    if ('jwksUri' in issuer) {
      this.#issuers.set(issuer.issuer, { jwksUri: issuer.jwksUri, keys: toKeys(await fetchJwks(issuer.jwksUri, this.#jwksTimeoutMs)) });
    } else {
      this.#issuers.set(issuer.issuer, { keys: toKeys(issuer.jwks) });
    }
  }

  async verify(token: string, expectedAudience: string): Promise<TokenCheck> {
    const jwt = splitJwt(token);
    if (jwt === undefined) return { ok: false, problem: 'malformed', message: 'The token is not a well-formed JWT.' };
    const { header, claims } = jwt;
    const iss = claims.iss;
    const trusted = typeof iss === 'string' ? this.#issuers.get(iss) : undefined;
    if (typeof iss !== 'string' || trusted === undefined) {
      return { ok: false, problem: 'untrusted-issuer', message: `No OpenIDConnect provider found in your account for ${String(iss)}` };
    }
    if (header.alg !== 'RS256') return { ok: false, problem: 'bad-signature', message: 'The token must be signed with RS256.' };
    const signature = await this.#checkSignature(trusted, jwt);
    if (signature === 'keys-unavailable') {
      return { ok: false, problem: 'issuer-keys-unavailable', message: "Couldn't retrieve verification key from your identity provider." };
    }
    if (signature === 'invalid') {
      return { ok: false, problem: 'bad-signature', message: 'The token signature could not be verified with the issuer keys.' };
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(expectedAudience)) return { ok: false, problem: 'wrong-audience', message: 'Incorrect token audience' };
    const nowSeconds = this.#now() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) {
      const exp = typeof claims.exp === 'number' ? new Date(claims.exp * 1000).toISOString() : 'none';
      return {
        ok: false,
        problem: 'expired',
        message: `Token expired: current date/time ${new Date(this.#now()).toISOString()} must be before the expiration date/time ${exp}`,
      };
    }
    if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds) {
      return { ok: false, problem: 'not-yet-valid', message: 'The token is not yet valid (nbf).' };
    }
    const match = typeof claims.sub === 'string' ? SUBJECT_PATTERN.exec(claims.sub) : null;
    if (match === null) return { ok: false, problem: 'bad-subject', message: 'The token subject is not a Kubernetes service account.' };
    return {
      ok: true,
      token: {
        issuer: iss,
        subject: match[0],
        namespace: match[1] ?? '',
        serviceAccount: match[2] ?? '',
        audience: expectedAudience,
        expiresAt: claims.exp * 1000,
      },
    };
  }

  async #checkSignature(trusted: IssuerKeys, jwt: JwtParts): Promise<SignatureCheck> {
    const check = (): SignatureCheck => {
      const kid = jwt.header.kid;
      const candidates = typeof kid === 'string' ? trusted.keys.filter((k) => k.kid === kid) : trusted.keys;
      return candidates.some((k) => verify('RSA-SHA256', Buffer.from(jwt.signedPart), k.key, jwt.signature)) ? 'valid' : 'invalid';
    };
    if (check() === 'valid') return 'valid';
    // Issuers rotate keys: an unknown key id triggers one JWKS refresh, as real OIDC verifiers do.
    const kid = jwt.header.kid;
    if (trusted.jwksUri === undefined || typeof kid !== 'string' || trusted.keys.some((k) => k.kid === kid)) return 'invalid';
    try {
      await this.#refresh(trusted, trusted.jwksUri);
    } catch {
      // Not the token's fault: the caller learns the keys could not be had, not that it is forged.
      return 'keys-unavailable';
    }
    return check();
  }

  /**
   * Refetches the issuer's JWKS. Tokens that arrive while a refetch is under way wait for that one
   * rather than starting their own, so a burst of tokens signed with a new key costs the issuer one
   * request.
   */
  #refresh(trusted: IssuerKeys, jwksUri: string): Promise<void> {
    trusted.refreshing ??= fetchJwks(jwksUri, this.#jwksTimeoutMs)
      .then((jwks) => {
        trusted.keys = toKeys(jwks);
      })
      .finally(() => {
        trusted.refreshing = undefined;
      });
    return trusted.refreshing;
  }
}
