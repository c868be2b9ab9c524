/**
 * The API server's rules for Secrets (pkg/apis/core/validation: ValidateSecret and
 * ValidateSecretUpdate), so a chart or the agent that writes a Secret a real cluster would refuse
 * is refused here too: data keys must be config keys, the well-known types need their keys, the
 * whole data may not exceed 1 MiB, `type` never changes, and an `immutable` Secret keeps its data.
 *
 * No message carries a data value: keys are names, and malformed contents are reported redacted.
 */
import { configKeyErrors } from '../../core/secrets/kube-names.js';
import { forbidden, invalidRedacted, invalidValue, required, tooLong } from './field-errors.js';
import type { FieldError } from './field-errors.js';
import { jsonKind } from './object-meta.js';
import type { ResourceType } from './resources.js';
import { cannotBeHandled } from './status.js';
import type { KubeObject } from './types.js';

/** core.MaxSecretSize. */
const MAX_SECRET_SIZE = 1024 * 1024;
/** Standard base64 with padding, what encoding/json requires of a []byte. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Where encoding/base64 gives up: the first character outside the alphabet, else where the padding fails. */
function base64ErrorOffset(text: string): number {
  const bad = text.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return bad;
  const padding = text.indexOf('=');
  return padding >= 0 ? padding : text.length - (text.length % 4);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The decoder's 400 for a Secret body that is not a Secret: data/stringData not string maps, data
 * values not base64, `type` not a string, `immutable` not a boolean. Names the offending key only.
 */
export function assertSecretDecodes(type: ResourceType, secret: KubeObject): void {
  const refuse = (why: string): never => {
    throw cannotBeHandled(type, why);
  };
  const shapes: [string, string, string][] = [
    ['data', 'map[string][]uint8', '[]uint8'],
    ['stringData', 'map[string]string', 'string'],
  ];
  for (const [field, mapType, valueType] of shapes) {
    const value = secret[field];
    if (value === undefined || value === null) continue;
    if (!isRecord(value)) refuse(`json: cannot unmarshal ${jsonKind(value)} into Go struct field Secret.${field} of type ${mapType}`);
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (item === null) continue;
      if (typeof item !== 'string') refuse(`json: cannot unmarshal ${jsonKind(item)} into Go struct field Secret.${field} of type ${valueType}`);
      if (field === 'data' && !BASE64.test(item as string)) refuse(`illegal base64 data at input byte ${base64ErrorOffset(item as string)} in data[${key}]`);
    }
  }
  const secretType = secret['type'];
  if (secretType !== undefined && secretType !== null && typeof secretType !== 'string') {
    refuse(`json: cannot unmarshal ${jsonKind(secretType)} into Go struct field Secret.type of type v1.SecretType`);
  }
  const immutable = secret['immutable'];
  if (immutable !== undefined && immutable !== null && typeof immutable !== 'boolean') {
    refuse(`json: cannot unmarshal ${jsonKind(immutable)} into Go struct field Secret.immutable of type bool`);
  }
}

/** The Secret's data (after stringData was folded in), key → base64. */
function dataOf(secret: KubeObject): Record<string, string> {
  const data = secret['data'];
  if (!isRecord(data)) return {};
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v : '']));
}

function decodedLength(base64: string): number {
  return Buffer.byteLength(base64, 'base64');
}

/** The keys each well-known type requires (the `switch secret.Type` of ValidateSecret). */
function typeErrors(secret: KubeObject, data: Record<string, string>): FieldError[] {
  const has = (key: string): boolean => Object.prototype.hasOwnProperty.call(data, key);
  const jsonDocument = (key: string): FieldError[] => {
    if (!has(key)) return [required(`data[${key}]`)];
    try {
      const parsed: unknown = JSON.parse(Buffer.from(data[key] ?? '', 'base64').toString('utf8'));
      return isRecord(parsed) ? [] : [invalidRedacted(`data[${key}]`, 'must be a JSON object')];
    } catch {
      // The parser's own message quotes the content, so it is not passed on.
      return [invalidRedacted(`data[${key}]`, 'must be well-formed JSON')];
    }
  };
  switch (secret['type']) {
    case 'kubernetes.io/service-account-token': {
      const annotations = secret.metadata.annotations ?? {};
      const key = 'kubernetes.io/service-account.name';
      return (annotations[key] ?? '') === '' ? [required(`metadata.annotations[${key}]`)] : [];
    }
    case 'kubernetes.io/dockercfg':
      return jsonDocument('.dockercfg');
    case 'kubernetes.io/dockerconfigjson':
      return jsonDocument('.dockerconfigjson');
    case 'kubernetes.io/basic-auth':
      // Either may be empty, but one of them must be there.
      return has('username') || has('password') ? [] : [required('data[username]'), required('data[password]')];
    case 'kubernetes.io/ssh-auth':
      return decodedLength(data['ssh-privatekey'] ?? '') === 0 ? [required('data[ssh-privatekey]')] : [];
    case 'kubernetes.io/tls':
      return [...(has('tls.crt') ? [] : [required('data[tls.crt]')]), ...(has('tls.key') ? [] : [required('data[tls.key]')])];
    default:
      return [];
  }
}

/** ValidateSecret, minus the metadata rules (validated for every type). */
export function secretErrors(secret: KubeObject): FieldError[] {
  const data = dataOf(secret);
  const errors: FieldError[] = [];
  let totalSize = 0;
  for (const [key, value] of Object.entries(data)) {
    for (const message of configKeyErrors(key)) errors.push(invalidValue(`data[${key}]`, key, message));
    totalSize += decodedLength(value);
  }
  if (totalSize > MAX_SECRET_SIZE) errors.push(tooLong('data', MAX_SECRET_SIZE));
  errors.push(...typeErrors(secret, data));
  return errors;
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

/** ValidateSecretUpdate: the immutable fields, then everything ValidateSecret checks. */
export function secretUpdateErrors(next: KubeObject, previous: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const nextType = typeof next['type'] === 'string' ? next['type'] : '';
  if (nextType !== previous['type']) errors.push(invalidValue('type', nextType, 'field is immutable'));
  if (previous['immutable'] === true) {
    if (next['immutable'] !== true) errors.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (!sameData(dataOf(next), dataOf(previous))) errors.push(forbidden('data', 'field is immutable when `immutable` is set'));
  }
  return [...errors, ...secretErrors(next)];
}
