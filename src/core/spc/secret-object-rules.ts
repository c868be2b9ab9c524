/**
 * What the API server requires of a synced Secret that a SecretProviderClass alone decides
 * (Kubernetes' ValidateSecret): its name, its data keys, and the keys or annotation each well-known
 * type needs. A `secretObjects` entry that breaks one is refused at every sync, by the upstream
 * driver as by secretlet, and nothing in the mount says so; `secretlet validate` reports it first.
 * Values are not looked at (they exist only at mount time).
 */

/** validation.IsConfigMapKey: what a Secret's data key may be. */
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
/** A DNS-1123 subdomain: what a Secret's name may be. */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` cannot be a Secret data key, or undefined when it can. */
export function secretKeyProblem(key: string): string | undefined {
  if (key.length > 253) return 'must be no more than 253 characters';
  if (!CONFIG_KEY.test(key)) return "must consist of alphanumeric characters, '-', '_' or '.'";
  if (key === '.' || key === '..' || key.startsWith('..')) return "must not be '.' or '..', nor start with '..'";
  return undefined;
}

/** Why `name` cannot be a Secret's name, or undefined when it can. */
export function secretNameProblem(name: string): string | undefined {
  if (name.length > 253) return 'must be no more than 253 characters';
  if (!SUBDOMAIN.test(name)) return "must be a lowercase RFC 1123 subdomain (lowercase alphanumerics, '-' and '.', starting and ending with an alphanumeric)";
  return undefined;
}

/** A label's or annotation's name part, and a label value (validation.IsQualifiedName / IsValidLabelValue). */
const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Why `key` cannot be a label or annotation key (`[prefix/]name`), or undefined when it can. */
export function metadataKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix === '' || secretNameProblem(prefix) !== undefined)) return 'must have a prefix that is a lowercase DNS subdomain';
  if (name.length === 0 || name.length > 63 || !NAME_PART.test(name)) {
    return "must be a name of at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric, with an optional DNS prefix and '/'";
  }
  return undefined;
}

/** Why `value` cannot be a label value, or undefined when it can (empty is allowed). */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME_PART.test(value)) return "must be at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric";
  return undefined;
}

/**
 * What a Secret of `type` lacks with these data keys and annotations, in the API server's terms
 * (`data[tls.key]`, `metadata.annotations[…]`); empty when it lacks nothing or the type has no rule.
 */
export function missingForType(type: string, keys: ReadonlySet<string>, annotations: Readonly<Record<string, string>>): string[] {
  const need = (...required: string[]): string[] => required.filter((k) => !keys.has(k)).map((k) => `data[${k}]`);
  switch (type) {
    case 'kubernetes.io/tls':
      return need('tls.crt', 'tls.key');
    case 'kubernetes.io/dockerconfigjson':
      return need('.dockerconfigjson');
    case 'kubernetes.io/dockercfg':
      return need('.dockercfg');
    case 'kubernetes.io/ssh-auth':
      return need('ssh-privatekey');
    case 'kubernetes.io/basic-auth':
      // Either may be empty, but one of them must be there.
      return keys.has('username') || keys.has('password') ? [] : ['data[username] or data[password]'];
    case 'kubernetes.io/service-account-token':
      return (annotations['kubernetes.io/service-account.name'] ?? '') === '' ? ['metadata.annotations[kubernetes.io/service-account.name]'] : [];
    default:
      return [];
  }
}
