/**
 * The scalar SecretProviderClass parameters and the request's `permission`, decoded with ASCP's
 * rules and texts (aws-provider.md §3, §8 step 7, §9 step 4). Each error names the parameter.
 */
import { invalidArgument } from '../errors.js';
import type { AddressPreference, AuthMode, PathTranslation } from '../model.js';
import { goJsonKind, goParseBool, goQuote, parseJsonSafely } from './go-text.js';

/**
 * `pathTranslation`: "" → `_`; "false" in any case → no translation; otherwise exactly one byte,
 * `/` included, as ASCP accepts it: slash-free names mount as they are and nested ones as nested
 * files, while a name that stays absolute is refused per object (file-name.ts), where ASCP fails at
 * write time.
 */
export function parsePathTranslation(value: string): PathTranslation {
  if (value === '') return { kind: 'replace', char: '_' };
  if (value.toLowerCase() === 'false') return { kind: 'none' };
  if (new TextEncoder().encode(value).length !== 1) {
    throw invalidArgument('InvalidPathTranslation', "pathTranslation must be either 'False' or a single character string", 'pathTranslation');
  }
  return { kind: 'replace', char: value };
}

/** `usePodIdentity`: "" → IRSA, else Go `strconv.ParseBool`. */
export function parseUsePodIdentity(value: string): AuthMode {
  const parsed = value === '' ? false : goParseBool(value);
  if (parsed === false) return 'irsa';
  if (parsed === true) return 'podIdentity';
  throw invalidArgument(
    'InvalidUsePodIdentity',
    `failed to parse usePodIdentity value, error: strconv.ParseBool: parsing ${goQuote(value)}: invalid syntax`,
    'usePodIdentity',
  );
}

/** `preferredAddressType`: case-insensitive ipv4/ipv6; anything else is auto (never an error). */
export function parsePreferredAddressType(value: string): AddressPreference {
  const lower = value.toLowerCase();
  return lower === 'ipv4' || lower === 'ipv6' ? lower : 'auto';
}

/** Primary first, then the failover region when set; they must differ (exact compare). */
export function resolveRegions(primary: string, failoverParam: string): string[] {
  if (failoverParam === '') return [primary];
  if (failoverParam === primary) {
    throw invalidArgument('FailoverRegionSameAsPrimary', `${primary}: failover region cannot be the same as the primary region`, 'failoverRegion');
  }
  return [primary, failoverParam];
}

const MAX_UINT32 = 0xffffffff;

/**
 * The request's `permission`: a JSON unsigned 32-bit integer (Go `os.FileMode`), e.g. "420".
 * JSON `null` leaves the zero value, as Go does.
 */
export function parsePermission(text: string): number {
  const fail = (detail: string) => invalidArgument('InvalidPermission', `failed to unmarshal file permission, error: ${detail}`, 'permission');
  const parsed = parseJsonSafely(text);
  if (!parsed.ok) throw fail(parsed.error);
  const value = parsed.value;
  if (value === null) return 0;
  if (typeof value !== 'number') throw fail(`json: cannot unmarshal ${goJsonKind(value)} into Go value of type fs.FileMode`);
  const literal = text.trim();
  if (!/^\d+$/.test(literal) || value > MAX_UINT32) {
    throw fail(`json: cannot unmarshal number ${literal} into Go value of type fs.FileMode`);
  }
  return value;
}
