/**
 * Strategic merge patch (application/strategic-merge-patch+json) for the built-in kinds served,
 * with the patch strategies k8s.io/api declares on their fields (`patchStrategy`/`patchMergeKey`):
 * lists with a merge key merge item by item (ownerReferences by uid, containers/volumes/env by
 * name, ...), primitive lists with strategy merge (finalizers, podCIDRs) take the union, every other
 * list is replaced. The directives do what apimachinery's strategicpatch does: `$patch: delete`
 * (a map, or a list item by its merge key), `$patch: replace` (a map, or a whole list),
 * `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>` and `$retainKeys`; none is stored.
 */

interface ListStrategy {
  /** The merge key of a list of objects; absent for a primitive list merged by value. */
  mergeKey?: string;
}

/** Fields (as dotted paths without indices) whose lists merge, per kind. */
const CONTAINER_LISTS: Record<string, ListStrategy> = {
  ports: { mergeKey: 'containerPort' },
  env: { mergeKey: 'name' },
  volumeMounts: { mergeKey: 'mountPath' },
  volumeDevices: { mergeKey: 'devicePath' },
};

function prefixed(prefix: string, lists: Record<string, ListStrategy>): Record<string, ListStrategy> {
  return Object.fromEntries(Object.entries(lists).map(([k, v]) => [`${prefix}.${k}`, v]));
}

const META_LISTS: Record<string, ListStrategy> = { 'metadata.ownerReferences': { mergeKey: 'uid' }, 'metadata.finalizers': {} };

const LISTS: Readonly<Record<string, Record<string, ListStrategy>>> = {
  Pod: {
    ...META_LISTS,
    'spec.volumes': { mergeKey: 'name' },
    'spec.containers': { mergeKey: 'name' },
    'spec.initContainers': { mergeKey: 'name' },
    'spec.ephemeralContainers': { mergeKey: 'name' },
    'spec.imagePullSecrets': { mergeKey: 'name' },
    'spec.hostAliases': { mergeKey: 'ip' },
    'spec.schedulingGates': { mergeKey: 'name' },
    'spec.resourceClaims': { mergeKey: 'name' },
    'spec.topologySpreadConstraints': { mergeKey: 'topologyKey' },
    ...prefixed('spec.containers', CONTAINER_LISTS),
    ...prefixed('spec.initContainers', CONTAINER_LISTS),
    ...prefixed('spec.ephemeralContainers', CONTAINER_LISTS),
    'status.conditions': { mergeKey: 'type' },
    'status.podIPs': { mergeKey: 'ip' },
    'status.hostIPs': { mergeKey: 'ip' },
  },
  ServiceAccount: { ...META_LISTS, secrets: { mergeKey: 'name' } },
  Node: { ...META_LISTS, 'spec.podCIDRs': {}, 'status.conditions': { mergeKey: 'type' }, 'status.addresses': { mergeKey: 'type' } },
  Namespace: { ...META_LISTS, 'status.conditions': { mergeKey: 'type' } },
  Secret: META_LISTS,
  Event: META_LISTS,
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A patch value with every directive removed, for where it replaces what is stored. */
function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => !(isObject(v) && v['$patch'] !== undefined && Object.keys(v).length === 1)).map(stripDirectives);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) out[k] = stripDirectives(v);
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `$setElementOrder`: the items it names first, in its order, then the others as they were. */
function ordered(list: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const keyOf = (v: unknown): unknown => (mergeKey !== undefined && isObject(v) ? v[mergeKey] : v);
  const wanted = order.map(keyOf);
  const named = wanted.flatMap((k) => list.filter((item) => sameJson(keyOf(item), k)));
  return [...named, ...list.filter((item) => !named.includes(item))];
}

function mergeList(options: { original: unknown; patch: unknown[]; strategy: ListStrategy; path: string; lists: Record<string, ListStrategy> }): unknown[] {
  const { patch, strategy, path, lists } = options;
  const original = Array.isArray(options.original) ? [...(options.original as unknown[])] : [];
  if (patch.some((item) => isObject(item) && item['$patch'] === 'replace')) return stripDirectives(patch) as unknown[];
  const key = strategy.mergeKey;
  if (key === undefined) {
    // A primitive list with strategy merge: the union, in stored order, then the new values.
    return [...original, ...patch.filter((v) => !original.some((o) => sameJson(o, v)))];
  }
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = original.findIndex((o) => isObject(o) && sameJson(o[key], item[key]));
    if (item['$patch'] === 'delete') {
      if (index >= 0) original.splice(index, 1);
    } else if (index >= 0) original[index] = mergeValue(original[index], item, path, lists);
    else original.push(mergeValue(undefined, item, path, lists));
  }
  return original;
}

function mergeValue(original: unknown, patch: unknown, path: string, lists: Record<string, ListStrategy>): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch['$patch'] === 'replace') return stripDirectives(patch);
  const result: Record<string, unknown> = isObject(original) ? { ...original } : {};
  const child = (key: string): string => (path === '' ? key : `${path}.${key}`);
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    const strategy = lists[child(key)];
    if (value === null || (isObject(value) && value['$patch'] === 'delete')) delete result[key];
    else if (Array.isArray(value) && strategy !== undefined) result[key] = mergeList({ original: result[key], patch: value, strategy, path: child(key), lists });
    else if (Array.isArray(value)) result[key] = stripDirectives(value);
    else result[key] = mergeValue(result[key], value, child(key), lists);
  }
  for (const [directive, value] of Object.entries(patch)) {
    const [name, field] = directive.split('/');
    if (field === undefined || !Array.isArray(value)) continue;
    if (name === '$deleteFromPrimitiveList' && Array.isArray(result[field])) {
      result[field] = (result[field] as unknown[]).filter((v) => !value.some((d) => sameJson(d, v)));
    }
    if (name === '$setElementOrder' && Array.isArray(result[field])) result[field] = ordered(result[field] as unknown[], value, lists[child(field)]?.mergeKey);
  }
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  return result;
}

/** Applies a strategic merge patch to an object of `kind` (a built-in kind; others merge with no list strategy). */
export function applyStrategicMergePatch(target: unknown, patch: unknown, kind: string): unknown {
  return mergeValue(target, patch, '', LISTS[kind] ?? META_LISTS);
}
