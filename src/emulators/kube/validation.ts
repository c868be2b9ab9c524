/**
 * What the API server checks of an object on every write, by type: first that the body decodes
 * into the kind (400 BadRequest), then its validation rules (422 Invalid with every field error).
 * The store calls these two steps; the rules themselves live with their subject (object-meta.ts,
 * metadata-keys.ts, secret-validation.ts).
 */
import type { FieldError } from './field-errors.js';
import { labelAndAnnotationErrors } from './metadata-keys.js';
import { assertMetadataDecodes, ownerReferenceErrors } from './object-meta.js';
import type { ResourceType } from './resources.js';
import { assertSecretDecodes, secretErrors, secretUpdateErrors } from './secret-validation.js';
import type { KubeObject } from './types.js';

/** Throws the 400 of a body that cannot be decoded as `type`; may normalise `obj` (a copy) in place. */
export function assertDecodes(type: ResourceType, obj: KubeObject): void {
  assertMetadataDecodes(type, obj.metadata);
  if (type.kind === 'Secret') assertSecretDecodes(type, obj);
}

/** The field errors of `obj` after defaulting; `previous` is the stored object on an update. */
export function validationErrors(type: ResourceType, obj: KubeObject, previous?: KubeObject): FieldError[] {
  const errors = [...ownerReferenceErrors(obj.metadata), ...labelAndAnnotationErrors(obj.metadata)];
  if (type.kind === 'Secret') errors.push(...(previous === undefined ? secretErrors(obj) : secretUpdateErrors(obj, previous)));
  return errors;
}
