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

/**
 * The AWS SDK's own client-side region check (@smithy/core config `resolveRegionConfig`): it first
 * strips a FIPS marker (`fips-…`, `fips-dkr-…`, `fips-prod-…`, `…-fips`; the pseudo regions
 * `fips-aws-global` and `aws-fips` mean us-east-1), then requires a hostname label (`isValidHostLabel`:
 * 1–63 letters, digits and hyphens, no hyphen first or last). Mirrored exactly so a malformed region
 * is refused up front instead of failing inside the SDK with a plain Error (classified INTERNAL),
 * while every region the SDK takes still works: new or partition regions (`us-gov-west-1`,
 * `cn-north-1`, `eu-isoe-west-1`) are not listed anywhere, so no region list is consulted. The one
 * value the SDK lets through with only a warning, `*` (SigV4a's "any region"), is refused here: no
 * Secrets Manager, SSM or STS endpoint has that name.
 */
function sdkAcceptsRegion(region: string): boolean {
  const fips = region.startsWith('fips-') || region.endsWith('-fips');
  const real = !fips
    ? region
    : region === 'fips-aws-global' || region === 'aws-fips'
      ? 'us-east-1'
      : region.replace(/fips-(dkr-|prod-)?|-fips/, '');
  return /^(?!.*-$)(?!-)[a-zA-Z0-9-]{1,63}$/.test(real);
}

function checkRegion(region: string, field: 'region' | 'failoverRegion'): void {
  if (!sdkAcceptsRegion(region)) {
    // Quoted: the value is the caller's and may hold spaces or control characters.
    throw invalidArgument('InvalidRegion', `${goQuote(region)}: ${field} is not a valid AWS region name (letters, digits and hyphens)`, field);
  }
}

/**
 * Primary first, then the failover region when set; they must differ (exact compare). Both must be
 * names the AWS SDK accepts. The primary is checked under `region` wherever it came from (the
 * parameter, AWS_REGION or the node's label): it is the resolved `region` either way.
 */
export function resolveRegions(primary: string, failoverParam: string): string[] {
  checkRegion(primary, 'region');
  if (failoverParam === '') return [primary];
  checkRegion(failoverParam, 'failoverRegion');
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
