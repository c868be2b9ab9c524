/**
 * Verifies Kubernetes service-account tokens the way STS (AssumeRoleWithWebIdentity) and EKS Auth
 * (pod identity) do: an RS256 JWT signed by a key of a trusted OIDC issuer's JWKS, with the
 * expected audience, not expired, and a `system:serviceaccount:<ns>:<sa>` subject.
 *
 * Failures are returned as a `TokenProblem` kind, not thrown as wire errors: STS and the pod identity
 * agent word and encode them differently.
 */
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
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

export type TokenProblem = 'malformed' | 'untrusted-issuer' | 'bad-signature' | 'wrong-audience' | 'expired' | 'not-yet-valid' | 'bad-subject';

export type TokenCheck = { ok: true; token: VerifiedToken } | { ok: false; problem: TokenProblem; message: string };

interface IssuerKeys {
  jwksUri?: string;
  keys: Array<{ kid?: string; key: KeyObject }>;
}

interface JwtParts {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signedPart: string;
  signature: Buffer;
}

const SUBJECT_PATTERN = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** Reads the claims without verifying (for counting who called, never for trust). */
export function unverifiedSubject(token: string): string | undefined {
  const claims = splitJwt(token)?.claims;
  return typeof claims?.sub === 'string' ? claims.sub : undefined;
}

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

async function fetchJwks(uri: string): Promise<{ keys: JsonWebKey[] }> {
  const response = await fetch(uri);
  if (!response.ok) throw new Error(`JWKS fetch from ${uri} failed with HTTP ${response.status}`);
  const body = (await response.json()) as { keys?: unknown };
  if (!Array.isArray(body.keys)) throw new Error(`JWKS at ${uri} has no keys array`);
  return { keys: body.keys as JsonWebKey[] };
}

export class IssuerRegistry {
  readonly #issuers = new Map<string, IssuerKeys>();
  readonly #now: () => number;

  constructor(options: { now: () => number }) {
    this.#now = options.now;
  }

  async trust(issuer: TrustedIssuer | TrustedIssuerByUri): Promise<void> {
    if ('jwksUri' in issuer) {
      this.#issuers.set(issuer.issuer, { jwksUri: issuer.jwksUri, keys: toKeys(await fetchJwks(issuer.jwksUri)) });
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
    if (!(await this.#signatureValid(trusted, jwt))) {
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

  async #signatureValid(trusted: IssuerKeys, jwt: JwtParts): Promise<boolean> {
    const check = (): boolean => {
      const kid = jwt.header.kid;
      const candidates = typeof kid === 'string' ? trusted.keys.filter((k) => k.kid === kid) : trusted.keys;
      return candidates.some((k) => verify('RSA-SHA256', Buffer.from(jwt.signedPart), k.key, jwt.signature));
    };
    if (check()) return true;
    // Issuers rotate keys: an unknown key id triggers one JWKS refresh, as real OIDC verifiers do.
    const kid = jwt.header.kid;
    if (trusted.jwksUri === undefined || typeof kid !== 'string' || trusted.keys.some((k) => k.kid === kid)) return false;
    try {
      trusted.keys = toKeys(await fetchJwks(trusted.jwksUri));
    } catch {
      return false;
    }
    return check();
  }
}
