/**
 * What the API server checks of an object on every write, by type: first that the body decodes
 * into the kind (400 BadRequest), then its validation rules (422 Invalid with every field error).
 * The store calls these two steps; the rules themselves live with their subject (object-meta.ts,
 * metadata-keys.ts, secret-validation.ts).
 */
import type { FieldError } from './field-errors.js';
import { labelAndAnnotationErrors } from './metadata-keys.js';
import { schemaTypeErrors } from './field-validation.js';
import { assertMetadataDecodes, finalizerErrors, ownerReferenceErrors } from './object-meta.js';
import { assertPodDecodes, podErrors } from './pod-validation.js';
import type { ResourceType } from './resources.js';
import { assertSecretDecodes, secretErrors, secretUpdateErrors } from './secret-validation.js';
import type { KubeObject } from './types.js';

/** Throws the 400 of a body that cannot be decoded as `type`; may normalise `obj` (a copy) in place. */
export function assertDecodes(type: ResourceType, obj: KubeObject): void {
  assertMetadataDecodes(type, obj.metadata);
  if (type.kind === 'Secret') assertSecretDecodes(type, obj);
  if (type.kind === 'Pod') assertPodDecodes(type, obj);
}

/**
 * The field errors of `obj` after defaulting; `previous` is the stored object on an update.
 * `viaApi`: a request through the REST API, which alone gets the pod registry's spec rules.
 */
export function validationErrors(type: ResourceType, obj: KubeObject, previous?: KubeObject, viaApi = false): FieldError[] {
  const errors = [...ownerReferenceErrors(obj.metadata), ...labelAndAnnotationErrors(obj.metadata), ...finalizerErrors(type.builtin, obj.metadata)];
  if (type.kind === 'Secret') errors.push(...(previous === undefined ? secretErrors(obj) : secretUpdateErrors(obj, previous)));
  // The seeding API writes bare Pods (no containers, a changed spec) as tests playing kubelet need.
  if (type.kind === 'Pod' && viaApi) errors.push(...podErrors(obj, previous));
  errors.push(...schemaTypeErrors(type, obj));
  return errors;
}
