/**
 * The pod's projected service-account tokens, as kubelet hands them over in the attribute
 * `csi.storage.k8s.io/serviceAccount.tokens` (aws-provider.md §10.1): a JSON object mapping an
 * audience to `{token, expirationTimestamp}`. Only the audience of the chosen auth mode is required.
 *
 * Status codes (our choice; ASCP returns plain errors):
 * - UNAUTHENTICATED when the pod's credentials are absent (no tokens at all, audience missing, empty
 *   token): the request carries no usable identity, usually a CSIDriver `tokenRequests` setting.
 * - INVALID_ARGUMENT when the attribute is present but malformed (not the JSON kubelet produces).
 * Messages never contain a token: only audiences and JSON error positions.
 */
import { SecretletError } from '../errors.js';
import type { AudienceToken, AuthMode } from '../model.js';
import { ATTR_TOKENS } from './attributes.js';
import { goJsonKind, goQuote, parseJsonSafely } from './go-text.js';

export const AUDIENCE_IRSA = 'sts.amazonaws.com';
export const AUDIENCE_POD_IDENTITY = 'pods.eks.amazonaws.com';

const HINT = ' - ensure tokenRequests is configured in CSIDriver spec';

function csiTokenError(code: 'UNAUTHENTICATED' | 'INVALID_ARGUMENT', reason: string, detail: string): SecretletError {
  return new SecretletError({ code, reason, field: ATTR_TOKENS, message: `CSI token error: ${detail}${HINT}` });
}

function malformed(detail: string): SecretletError {
  return csiTokenError('INVALID_ARGUMENT', 'TokensMalformed', `failed to parse serviceAccount.tokens: ${detail}`);
}

/** Go encoding/json field lookup: exact name first, else a case-insensitive match. */
function goField(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const folded = Object.keys(obj).filter((k) => k.toLowerCase() === name.toLowerCase());
  const last = folded[folded.length - 1];
  return last === undefined ? undefined : obj[last];
}

function stringField(entry: Record<string, unknown>, name: string): string {
  const value = goField(entry, name);
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') {
    throw malformed(`json: cannot unmarshal ${goJsonKind(value)} into Go struct field ServiceAccountToken.${name} of type string`);
  }
  return value;
}

/** Parses the tokens attribute (step 5 of ASCP's Mount); audience lookup is separate. */
export function parseServiceAccountTokens(raw: string): Record<string, AudienceToken> {
  if (raw === '') {
    throw csiTokenError(
      'UNAUTHENTICATED',
      'TokensMissing',
      'serviceAccount.tokens not provided - ensure tokenRequests is configured in CSIDriver',
    );
  }
  const parsed = parseJsonSafely(raw);
  if (!parsed.ok) throw malformed(parsed.error);
  if (parsed.value === null) return {};
  if (typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
    throw malformed(`json: cannot unmarshal ${goJsonKind(parsed.value)} into Go value of type map[string]utils.ServiceAccountToken`);
  }
  const result: Array<[string, AudienceToken]> = [];
  for (const [audience, entry] of Object.entries(parsed.value as Record<string, unknown>)) {
    if (entry === null) {
      result.push([audience, { token: '', expirationTimestamp: '' }]);
      continue;
    }
    if (typeof entry !== 'object' || Array.isArray(entry)) {
      throw malformed(`json: cannot unmarshal ${goJsonKind(entry)} into Go value of type utils.ServiceAccountToken`);
    }
    const record = entry as Record<string, unknown>;
    result.push([audience, { token: stringField(record, 'token'), expirationTimestamp: stringField(record, 'expirationTimestamp') }]);
  }
  return Object.fromEntries(result);
}

export function audienceFor(mode: AuthMode): string {
  return mode === 'podIdentity' ? AUDIENCE_POD_IDENTITY : AUDIENCE_IRSA;
}

/** The token for the auth mode's audience (step 12), with ASCP's wording. */
export function tokenForMode(tokens: Record<string, AudienceToken>, mode: AuthMode): string {
  const audience = audienceFor(mode);
  const prefix = mode === 'podIdentity' ? 'Pod Identity token extraction failed: ' : 'IRSA token extraction failed: ';
  const entry = Object.hasOwn(tokens, audience) ? tokens[audience] : undefined;
  if (entry === undefined) {
    throw new SecretletError({
      code: 'UNAUTHENTICATED',
      reason: 'TokenAudienceMissing',
      field: ATTR_TOKENS,
      message: `${prefix}token for audience ${goQuote(audience)} not found - ensure tokenRequests includes this audience in CSIDriver`,
    });
  }
  if (entry.token === '') {
    throw new SecretletError({
      code: 'UNAUTHENTICATED',
      reason: 'TokenEmpty',
      field: ATTR_TOKENS,
      message: `${prefix}token for audience ${goQuote(audience)} is empty`,
    });
  }
  return entry.token;
}
