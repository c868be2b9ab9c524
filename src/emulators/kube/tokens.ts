/**
 * Service account tokens, minted the way the API server's TokenRequest does: RS256 JWTs signed by a
 * key pair of this emulator instance, with the claims IAM and the AWS provider read (iss, sub, aud,
 * exp, and the `kubernetes.io` block binding the pod). The issuer publishes its OIDC discovery
 * document and JWKS, so the AWS emulator can trust it exactly as IAM trusts a cluster's OIDC provider.
 */
import { createHash, generateKeyPairSync, randomUUID, sign, verify } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';

/** The audience of the API server itself (what in-cluster clients present). */
export const API_AUDIENCE = 'https://kubernetes.default.svc';

export interface TokenIssuerOptions {
  /** The `iss` claim and the base of the discovery URLs, e.g. `http://127.0.0.1:41234`. */
  issuer: string;
  /** Clock in epoch milliseconds. */
  now: () => number;
}

/** The longest lifetime TokenRequest validation allows (2^32 seconds). */
export const MAX_TOKEN_EXPIRATION_SECONDS = 2 ** 32;

/** An object a token is bound to, as the claims name it (the uid is absent for a Node that does not exist). */
export interface BoundObject {
  name: string;
  uid?: string;
}

export interface MintOptions {
  namespace: string;
  serviceAccount: string;
  serviceAccountUid: string;
  audiences: string[];
  /** Whole seconds, 1 to 2^32. @default 3600 */
  expirationSeconds?: number;
  pod?: { name: string; uid: string };
  /** The node of a pod-bound token's pod, or the Node a token is bound to. */
  node?: BoundObject;
  secret?: { name: string; uid: string };
}

export interface MintedToken {
  token: string;
  expirationTimestamp: string;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    node?: BoundObject;
    secret?: { name: string; uid: string };
  };
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export class TokenIssuer {
  readonly issuer: string;
  readonly #now: () => number;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #keyId: string;

  constructor(options: TokenIssuerOptions) {
    this.issuer = options.issuer;
    this.#now = options.now;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
    // Like the API server: the key id is the base64url SHA-256 of the DER public key.
    this.#keyId = base64url(createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest());
  }

  mint(options: MintOptions): MintedToken {
    const lifetime = options.expirationSeconds ?? 3600;
    // A lifetime beyond what TokenRequest allows would not even fit a Date: refuse it by name.
    if (!Number.isSafeInteger(lifetime) || lifetime <= 0 || lifetime > MAX_TOKEN_EXPIRATION_SECONDS) {
      throw new RangeError(`expirationSeconds must be a whole number of seconds from 1 to ${MAX_TOKEN_EXPIRATION_SECONDS}, got ${String(lifetime)}`);
    }
    const iat = Math.floor(this.#now() / 1000);
    const exp = iat + lifetime;
    const claims: TokenClaims = {
      iss: this.issuer,
      sub: `system:serviceaccount:${options.namespace}:${options.serviceAccount}`,
      aud: [...options.audiences],
      exp,
      iat,
      nbf: iat,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace: options.namespace,
        serviceaccount: { name: options.serviceAccount, uid: options.serviceAccountUid },
        ...(options.pod === undefined ? {} : { pod: { ...options.pod } }),
        ...(options.node === undefined ? {} : { node: { ...options.node } }),
        ...(options.secret === undefined ? {} : { secret: { ...options.secret } }),
      },
    };
    const signingInput = `${base64url(JSON.stringify({ alg: 'RS256', kid: this.#keyId }))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), this.#privateKey);
    return { token: `${signingInput}.${base64url(signature)}`, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  /** The claims of a token this issuer signed, still valid and meant for `audience`; else undefined. */
  verify(token: string, audience: string): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [header, payload, signature] = parts as [string, string, string];
    const ok = verify('sha256', Buffer.from(`${header}.${payload}`), this.#publicKey, Buffer.from(signature, 'base64url'));
    if (!ok) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TokenClaims;
      const nowSeconds = this.#now() / 1000;
      if (claims.iss !== this.issuer || claims.exp <= nowSeconds || !claims.aud.includes(audience)) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }

  jwks(): { keys: JsonWebKey[] } {
    return { keys: [{ ...this.#publicKey.export({ format: 'jwk' }), kid: this.#keyId, use: 'sig', alg: 'RS256' }] };
  }

  /** `/.well-known/openid-configuration`, as the API server serves it for service account issuer discovery. */
  openIdConfiguration(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }
}

/** A stable uid for a service account or pod the store does not hold (tests that play kubelet). */
export function derivedUid(kind: string, namespace: string, name: string): string {
  const hex = createHash('sha1').update(`${kind}/${namespace}/${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
