/**
 * `metadata` as the API server takes it. First decoding: a field of the wrong JSON type (labels
 * that are not a string map, ownerReferences that are not a list of objects) cannot become an
 * ObjectMeta, which is a 400 BadRequest, and is refused before anything is stored: a stored
 * `ownerReferences: {}` would break every later delete's garbage collection. Then validation: owner
 * references must name their owner (apimachinery ValidateOwnerReferences), a 422 Invalid.
 */
import { qualifiedNameErrors } from '../../core/secrets/kube-names.js';
import { invalidAny, invalidValue } from './field-errors.js';
import type { FieldError } from './field-errors.js';
import type { ResourceType } from './resources.js';
import { cannotBeHandled } from './status.js';
import type { ObjectMeta } from './types.js';

type Shape = 'string' | 'int64' | 'bool' | 'stringMap' | 'stringList' | 'ownerReferences';

/** The ObjectMeta fields the emulator reads, with the Go type the decoder names in its message. */
const META_FIELDS: Readonly<Record<string, { shape: Shape; goType: string }>> = {
  name: { shape: 'string', goType: 'string' },
  generateName: { shape: 'string', goType: 'string' },
  namespace: { shape: 'string', goType: 'string' },
  uid: { shape: 'string', goType: 'types.UID' },
  resourceVersion: { shape: 'string', goType: 'string' },
  generation: { shape: 'int64', goType: 'int64' },
  labels: { shape: 'stringMap', goType: 'map[string]string' },
  annotations: { shape: 'stringMap', goType: 'map[string]string' },
  finalizers: { shape: 'stringList', goType: '[]string' },
  ownerReferences: { shape: 'ownerReferences', goType: '[]v1.OwnerReference' },
};

const OWNER_REFERENCE_FIELDS: Readonly<Record<string, { shape: Shape; goType: string }>> = {
  apiVersion: { shape: 'string', goType: 'string' },
  kind: { shape: 'string', goType: 'string' },
  name: { shape: 'string', goType: 'string' },
  uid: { shape: 'string', goType: 'types.UID' },
  controller: { shape: 'bool', goType: 'bool' },
  blockOwnerDeletion: { shape: 'bool', goType: 'bool' },
};

/** The JSON type as encoding/json names it in "cannot unmarshal <type> into ...". */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fits(value: unknown, shape: Shape): boolean {
  switch (shape) {
    case 'string':
      return typeof value === 'string';
    case 'int64':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'stringMap':
      return isRecord(value) && Object.values(value).every((v) => typeof v === 'string');
    case 'stringList':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'ownerReferences':
      return Array.isArray(value) && value.every((v) => isRecord(v));
  }
}

/** What the decoder would say about the first part of `value` that does not fit `shape`. */
function misfit(value: unknown, shape: Shape): string {
  if (shape === 'stringMap' && isRecord(value)) return jsonKind(Object.values(value).find((v) => typeof v !== 'string'));
  if ((shape === 'stringList' || shape === 'ownerReferences') && Array.isArray(value)) {
    return jsonKind(value.find((v) => (shape === 'stringList' ? typeof v !== 'string' : !isRecord(v))));
  }
  return jsonKind(value);
}

/**
 * Throws the decoder's 400 when a metadata field has the wrong JSON type; drops `null` fields,
 * which decode to their zero value (absent). Mutates `metadata`, which must be the caller's copy.
 */
export function assertMetadataDecodes(type: ResourceType, metadata: ObjectMeta): void {
  const refuse = (path: string, got: string, goType: string): never => {
    throw cannotBeHandled(type, `json: cannot unmarshal ${got} into Go struct field ${path} of type ${goType}`);
  };
  for (const [field, { shape, goType }] of Object.entries(META_FIELDS)) {
    const value = metadata[field];
    if (value === null) delete metadata[field];
    if (value === null || value === undefined) continue;
    if (!fits(value, shape)) refuse(`ObjectMeta.metadata.${field}`, misfit(value, shape), shape === 'ownerReferences' && Array.isArray(value) ? 'v1.OwnerReference' : goType);
  }
  for (const reference of metadata.ownerReferences ?? []) {
    const ref = reference as unknown as Record<string, unknown>;
    for (const [field, { shape, goType }] of Object.entries(OWNER_REFERENCE_FIELDS)) {
      const value = ref[field];
      if (value === null) delete ref[field];
      if (value !== null && value !== undefined && !fits(value, shape)) refuse(`OwnerReference.metadata.ownerReferences.${field}`, jsonKind(value), goType);
    }
  }
}

/** The version part of an apiVersion (`v1` of `apps/v1`), '' when it has none. */
function versionOf(apiVersion: string): string {
  const parts = apiVersion.split('/');
  return parts.length > 2 ? '' : (parts[parts.length - 1] ?? '');
}

/** An owner reference as encoding/json writes the Go struct (field order, omitted empty pointers), for messages. */
function goOwnerReference(ref: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: ref['apiVersion'] ?? '',
    kind: ref['kind'] ?? '',
    name: ref['name'] ?? '',
    uid: ref['uid'] ?? '',
    ...(ref['controller'] === undefined ? {} : { controller: ref['controller'] }),
    ...(ref['blockOwnerDeletion'] === undefined ? {} : { blockOwnerDeletion: ref['blockOwnerDeletion'] }),
  };
}

/**
 * ValidateOwnerReferences: each reference names an owner completely (the field path has no index,
 * as upstream), and at most one is the controller.
 */
export function ownerReferenceErrors(metadata: ObjectMeta): FieldError[] {
  const path = 'metadata.ownerReferences';
  const references = metadata.ownerReferences ?? [];
  let firstController = '';
  const controllerErrors: FieldError[] = [];
  for (const ref of references) {
    if (ref.controller !== true) continue;
    const current = `${ref.kind}/${ref.name}`;
    if (firstController === '') firstController = current;
    else {
      const all = references.map((r) => goOwnerReference(r as unknown as Record<string, unknown>));
      controllerErrors.push(invalidAny(path, all, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`));
    }
  }
  return [...references.flatMap((ref) => {
    const errors: FieldError[] = [];
    const apiVersion = ref.apiVersion ?? '';
    if (versionOf(apiVersion) === '') errors.push(invalidValue(`${path}.apiVersion`, apiVersion, 'version must not be empty'));
    if ((ref.kind ?? '') === '') errors.push(invalidValue(`${path}.kind`, '', 'kind must not be empty'));
    if ((ref.name ?? '') === '') errors.push(invalidValue(`${path}.name`, '', 'name must not be empty'));
    if ((ref.uid ?? '') === '') errors.push(invalidValue(`${path}.uid`, '', 'uid must not be empty'));
    return errors;
  }), ...controllerErrors];
}

/** The finalizers core/v1 defines, the only ones a built-in kind may name without a `domain/` prefix. */
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/**
 * ValidateFinalizers (qualified names; `orphan` and `foregroundDeletion` exclusive) and, for the
 * built-in kinds, validateKubeFinalizerName (a name without a prefix must be a standard one).
 */
export function finalizerErrors(builtin: boolean, metadata: ObjectMeta): FieldError[] {
  const path = 'metadata.finalizers';
  const finalizers = metadata.finalizers ?? [];
  const errors: FieldError[] = [];
  for (const name of finalizers) {
    const messages = qualifiedNameErrors(name);
    errors.push(...messages.map((m) => invalidValue(path, name, m)));
    if (builtin && messages.length === 0 && !name.includes('/') && !STANDARD_FINALIZERS.has(name)) {
      errors.push(invalidValue(path, name, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion')) {
    errors.push(invalidAny(path, finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errors;
}
