/**
 * The API server's rules for `metadata.labels` and `metadata.annotations` on every object
 * (apimachinery ValidateLabels, ValidateAnnotations): label keys and annotation keys are qualified
 * names (`[DNS-subdomain prefix/]name`, the annotation key checked lowercased), label values are
 * short names or empty, and all annotations together stay under 256 KiB. Messages are the API
 * server's own, so a chart refused here reads as it would on a cluster.
 */
import { labelValueErrors, qualifiedNameErrors } from '../../core/secrets/kube-names.js';
import { invalidValue, tooLong } from './field-errors.js';
import type { FieldError } from './field-errors.js';
import type { ObjectMeta } from './types.js';

/** apimachinery TotalAnnotationSizeLimitB. */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

export function labelAndAnnotationErrors(metadata: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(metadata.labels ?? {})) {
    for (const message of qualifiedNameErrors(key)) errors.push(invalidValue('metadata.labels', key, message));
    for (const message of labelValueErrors(value)) errors.push(invalidValue('metadata.labels', value, message));
  }
  let size = 0;
  for (const [key, value] of Object.entries(metadata.annotations ?? {})) {
    for (const message of qualifiedNameErrors(key.toLowerCase())) errors.push(invalidValue('metadata.annotations', key, message));
    size += key.length + value.length;
  }
  if (size > MAX_ANNOTATIONS_BYTES) errors.push(tooLong('metadata.annotations', MAX_ANNOTATIONS_BYTES));
  return errors;
}
