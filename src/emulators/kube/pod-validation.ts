/**
 * What the pod registry checks beyond ObjectMeta (pkg/apis/core/validation ValidatePodCreate and
 * ValidatePodUpdate), for the parts the emulator models: the spec must decode (`containers` a list
 * of objects, else the decoder's 400), there must be containers, each named and with an image, names
 * unique; and an update may change only the few mutable spec fields.
 */
import { required } from './field-errors.js';
import type { FieldError } from './field-errors.js';
import { canonical } from './generation.js';
import { jsonKind } from './object-meta.js';
import type { ResourceType } from './resources.js';
import { cannotBeHandled } from './status.js';
import type { KubeObject } from './types.js';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
const GO_TYPES: Record<(typeof CONTAINER_LISTS)[number], string> = { containers: 'v1.Container', initContainers: 'v1.Container', ephemeralContainers: 'v1.EphemeralContainer' };

/** The decoder's 400 for a spec or container list of the wrong JSON type. */
export function assertPodDecodes(type: ResourceType, obj: KubeObject): void {
  const spec = obj['spec'];
  if (spec === undefined || spec === null) return;
  if (record(spec) === undefined) throw cannotBeHandled(type, `json: cannot unmarshal ${jsonKind(spec)} into Go struct field Pod.spec of type v1.PodSpec`);
  for (const list of CONTAINER_LISTS) {
    const value = (spec as Record<string, unknown>)[list];
    if (value === undefined || value === null) continue;
    const where = `Go struct field PodSpec.spec.${list}`;
    if (!Array.isArray(value)) throw cannotBeHandled(type, `json: cannot unmarshal ${jsonKind(value)} into ${where} of type []${GO_TYPES[list]}`);
    const bad = value.find((c) => record(c) === undefined);
    if (bad !== undefined) throw cannotBeHandled(type, `json: cannot unmarshal ${jsonKind(bad)} into ${where} of type ${GO_TYPES[list]}`);
  }
}

/** validateContainers: at least one, each with a unique name and an image. */
function containerErrors(spec: Record<string, unknown>): FieldError[] {
  const containers = Array.isArray(spec['containers']) ? (spec['containers'] as Record<string, unknown>[]) : [];
  if (containers.length === 0) return [required('spec.containers')];
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, i) => {
    const name = typeof c['name'] === 'string' ? c['name'] : '';
    if (name === '') errors.push(required(`spec.containers[${i}].name`));
    else if (seen.has(name)) errors.push({ type: 'FieldValueDuplicate', field: `spec.containers[${i}].name`, body: `Duplicate value: ${JSON.stringify(name)}` });
    seen.add(name);
    if (typeof c['image'] !== 'string' || c['image'] === '') errors.push(required(`spec.containers[${i}].image`));
  });
  return errors;
}

/** The fields ValidatePodUpdate names as the only ones an update may change (1.32, default feature gates). */
const UPDATABLE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** The new spec with what an update may change taken from the old one, as ValidatePodUpdate munges it. */
function munged(spec: Record<string, unknown>, old: Record<string, unknown>): Record<string, unknown> {
  const result = structuredClone(spec);
  for (const list of ['containers', 'initContainers'] as const) {
    const mine = result[list];
    const theirs = old[list];
    if (!Array.isArray(mine) || !Array.isArray(theirs) || mine.length !== theirs.length) continue;
    mine.forEach((c: unknown, i) => {
      const image: unknown = record(theirs[i])?.['image'];
      if (record(c) !== undefined) (c as Record<string, unknown>)['image'] = image;
    });
  }
  if (old['activeDeadlineSeconds'] === undefined) delete result['activeDeadlineSeconds'];
  else result['activeDeadlineSeconds'] = old['activeDeadlineSeconds'];
  const oldTolerations = Array.isArray(old['tolerations']) ? old['tolerations'] : [];
  const newTolerations = Array.isArray(result['tolerations']) ? result['tolerations'] : [];
  // Additions only: the old tolerations must all still be there.
  if (oldTolerations.every((t) => newTolerations.some((n) => canonical(n) === canonical(t)))) {
    if (old['tolerations'] === undefined) delete result['tolerations'];
    else result['tolerations'] = old['tolerations'];
  }
  const oldGrace = old['terminationGracePeriodSeconds'];
  if (typeof oldGrace === 'number' && oldGrace < 0 && result['terminationGracePeriodSeconds'] === 1) result['terminationGracePeriodSeconds'] = oldGrace;
  return result;
}

export function podErrors(obj: KubeObject, previous?: KubeObject): FieldError[] {
  const spec = record(obj['spec']) ?? {};
  const errors = containerErrors(spec);
  if (previous !== undefined && errors.length === 0) {
    const old = record(previous['spec']) ?? {};
    // The API server appends a diff of its internal PodSpec, which the emulator does not reproduce.
    if (canonical(munged(spec, old)) !== canonical(old)) errors.push({ type: 'FieldValueForbidden', field: 'spec', body: `Forbidden: ${UPDATABLE}` });
  }
  return errors;
}
