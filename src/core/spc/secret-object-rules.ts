/**
 * What the API server requires of a synced Secret that a SecretProviderClass alone decides
 * (Kubernetes' ValidateSecret): its name, its data keys, and the keys or annotation each well-known
 * type needs. A `secretObjects` entry that breaks one is refused at every sync, by the upstream
 * driver as by secretlet, and nothing in the mount says so; `secretlet validate` reports it first.
 * Values are not looked at (they exist only at mount time). The messages are the API server's
 * (kube-names.ts).
 */
import { configKeyErrors, dns1123SubdomainErrors, labelValueErrors, qualifiedNameErrors } from '../secrets/kube-names.js';

/** What the API server would say of `key` as a Secret data key, or undefined when it takes it. */
export function secretKeyProblem(key: string): string | undefined {
  return joined(configKeyErrors(key));
}

/** What the API server would say of `name` as a Secret's name, or undefined when it takes it. */
export function secretNameProblem(name: string): string | undefined {
  return joined(dns1123SubdomainErrors(name));
}

/** What the API server would say of `key` as a label key (an annotation key: pass it lowercased). */
export function metadataKeyProblem(key: string): string | undefined {
  return joined(qualifiedNameErrors(key));
}

/** What the API server would say of `value` as a label value (empty is allowed). */
export function labelValueProblem(value: string): string | undefined {
  return joined(labelValueErrors(value));
}

function joined(errors: readonly string[]): string | undefined {
  return errors.length === 0 ? undefined : errors.join('; ');
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
