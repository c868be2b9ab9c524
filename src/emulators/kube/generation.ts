/**
 * `metadata.generation`, as each registry keeps it. Among the kinds served only custom resources
 * have one (the CRD strategy sets 1 on create and bumps it when anything but metadata changes, or
 * anything but metadata and status when the CRD has a status subresource). The built-in strategies
 * of pods (before 1.33), nodes, namespaces, service accounts, secrets and events never set it, so
 * their objects carry whatever the client sent on create, kept as is on every update.
 */
import type { ResourceType } from './resources.js';
import type { KubeObject } from './types.js';

/** JSON with sorted keys, so two objects compare equal whatever the order of their keys. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What a change to bumps the generation: all but metadata (and status, when it has its own subresource). */
function generationPart(type: ResourceType, obj: KubeObject): string {
  const { metadata: _m, ...rest } = obj;
  if (type.statusSubresource) delete rest['status'];
  return canonical(rest);
}

export function tracksGeneration(type: ResourceType): boolean {
  return !type.builtin;
}

/** Sets `obj.metadata.generation` for a create. */
export function generationOnCreate(type: ResourceType, obj: KubeObject): void {
  if (tracksGeneration(type)) obj.metadata.generation = 1;
}

/** Sets `obj.metadata.generation` for an update of `existing`. */
export function generationOnUpdate(type: ResourceType, obj: KubeObject, existing: KubeObject): void {
  if (existing.metadata.generation === undefined) delete obj.metadata.generation;
  else obj.metadata.generation = existing.metadata.generation;
  if (!tracksGeneration(type)) return;
  const previous = existing.metadata.generation ?? 1;
  obj.metadata.generation = generationPart(type, obj) === generationPart(type, existing) ? previous : previous + 1;
}
