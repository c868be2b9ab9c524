/**
 * The driver's `attributes` (SPC parameters merged with kubelet's pod keys): their names and their
 * decoding, as ASCP does it (aws-provider.md §2, §8 step 3). A JSON object of string → string; any
 * other value fails the whole mount. Missing keys read as "".
 */
import { invalidArgument } from '../errors.js';
import type { SecretletError } from '../errors.js';
import { goJsonKind, parseJsonSafely } from './go-text.js';

export const ATTR_POD_NAMESPACE = 'csi.storage.k8s.io/pod.namespace';
export const ATTR_POD_NAME = 'csi.storage.k8s.io/pod.name';
export const ATTR_POD_UID = 'csi.storage.k8s.io/pod.uid';
export const ATTR_SERVICE_ACCOUNT_NAME = 'csi.storage.k8s.io/serviceAccount.name';
export const ATTR_TOKENS = 'csi.storage.k8s.io/serviceAccount.tokens';
export const ATTR_OBJECTS = 'objects';
export const ATTR_REGION = 'region';
export const ATTR_FAILOVER_REGION = 'failoverRegion';
export const ATTR_PATH_TRANSLATION = 'pathTranslation';
export const ATTR_USE_POD_IDENTITY = 'usePodIdentity';
export const ATTR_PREFERRED_ADDRESS_TYPE = 'preferredAddressType';

function attributesError(detail: string): SecretletError {
  return invalidArgument('InvalidAttributes', `failed to unmarshal attributes, error: ${detail}`, 'attributes');
}

/**
 * Decodes `attributes`. JSON `null` is an empty map (Go decodes it into a nil map without error).
 * The result is built with `Object.fromEntries`, so a `__proto__` key is an ordinary entry.
 */
export function parseAttributes(json: string): Record<string, string> {
  const parsed = parseJsonSafely(json);
  if (!parsed.ok) throw attributesError(parsed.error);
  const value = parsed.value;
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw attributesError(`json: cannot unmarshal ${goJsonKind(value)} into Go value of type map[string]string`);
  }
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [, v] of entries) {
    // A JSON null into a map[string]string entry is the zero value "", not an error.
    if (typeof v !== 'string' && v !== null) {
      throw attributesError(`json: cannot unmarshal ${goJsonKind(v)} into Go value of type string`);
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, typeof v === 'string' ? v : '']));
}

/** The value of one attribute, "" when absent; only own keys count. */
export function attribute(attributes: Record<string, string>, key: string): string {
  return Object.hasOwn(attributes, key) ? (attributes[key] ?? '') : '';
}
