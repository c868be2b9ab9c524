/**
 * Fetches an OIDC issuer's JWKS (its public signing keys) over HTTP. The fetch is bounded by a
 * timeout: an issuer that accepts the connection but never answers must not hold a token check,
 * and with it the caller's STS or pod identity request, open forever.
 */
import type { JsonWebKey } from 'node:crypto';
import { SecretletError } from '../../core/errors.js';

/** How long one JWKS fetch may take, body included. */
export const JWKS_FETCH_TIMEOUT_MS = 5000;

/** The issuer's keys could not be had: unreachable, too slow, an HTTP error or not a JWKS. */
function jwksUnavailable(uri: string, problem: string, cause?: unknown): SecretletError {
  return new SecretletError({
    code: 'UNAVAILABLE',
    reason: 'JwksUnavailable',
    message: `JWKS fetch from ${uri} failed: ${problem}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

export async function fetchJwks(uri: string, timeoutMs = JWKS_FETCH_TIMEOUT_MS): Promise<{ keys: JsonWebKey[] }> {
  let body: unknown;
  try {
    // The signal also bounds reading the body, not only the response headers.
    const response = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw jwksUnavailable(uri, `HTTP ${response.status}`);
    body = await response.json();
  } catch (err) {
    if (err instanceof SecretletError) throw err;
    const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
    throw jwksUnavailable(uri, timedOut ? `no answer within ${timeoutMs} ms` : 'the issuer could not be reached or sent no JSON', err);
  }
  const keys = typeof body === 'object' && body !== null ? (body as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) throw jwksUnavailable(uri, 'the document has no keys array');
  return { keys: keys as JsonWebKey[] };
}
