/**
 * Label and field selectors, as list and watch requests carry them (`?labelSelector=`,
 * `?fieldSelector=`). Informers of the real agent filter with them (pods by `spec.nodeName`, SPCPS by
 * node label), so they must select exactly what a real API server selects.
 */
import { parseLabelRequirements, requirementMatches } from './label-selector.js';
import type { LabelRequirement } from './label-selector.js';
import { badRequest } from './status.js';
import type { KubeObject } from './types.js';

interface FieldRequirement {
  op: 'eq' | 'neq';
  path: string;
  value: string;
}

/** A parsed pair of selectors; an empty one matches everything. */
export interface Selector {
  matches(obj: KubeObject): boolean;
}

/** Splits on commas that are not inside parentheses (`a in (x,y),b=c`). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** The requirements of a label selector; an invalid one is the API server's 400 with labels.Parse's message. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  try {
    return parseLabelRequirements(text);
  } catch (err) {
    throw badRequest(err instanceof Error ? err.message : String(err));
  }
}

export function parseFieldSelector(text: string): FieldRequirement[] {
  return splitTopLevel(text).map((part) => {
    const cmp = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!cmp) throw badRequest(`invalid field selector: "${part}"`);
    return { op: cmp[2] === '!=' ? 'neq' : 'eq', path: (cmp[1] ?? '').trim(), value: (cmp[3] ?? '').trim() };
  });
}

/** Reads a dotted field path (`spec.nodeName`, `involvedObject.uid`) as the string the API compares. */
export function fieldValue(obj: KubeObject, path: string): string {
  let current: unknown = obj;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null) return '';
    current = (current as Record<string, unknown>)[segment];
  }
  if (current === undefined || current === null) return '';
  return typeof current === 'string' ? current : JSON.stringify(current);
}

/** The value of a boolean field as the API server's fields set writes it: unset is `false`. */
function booleanField(obj: KubeObject, path: string): string {
  return fieldValue(obj, path) === 'true' ? 'true' : 'false';
}

/**
 * Field labels whose value is not simply the field at that path, as the types' selectable-fields
 * functions compute them (pod/node strategy.go): an Event's `source` is its `source.component`,
 * unset booleans are `false`, and a pod's `status.podIP` is its first `status.podIPs` entry.
 */
const FIELD_READERS: Readonly<Record<string, (obj: KubeObject) => string>> = {
  source: (obj) => fieldValue(obj, 'source.component'),
  'spec.hostNetwork': (obj) => booleanField(obj, 'spec.hostNetwork'),
  'spec.unschedulable': (obj) => booleanField(obj, 'spec.unschedulable'),
  'status.podIP': (obj) => {
    const podIPs = (obj['status'] as { podIPs?: unknown } | undefined)?.podIPs;
    const first: unknown = Array.isArray(podIPs) ? podIPs[0] : undefined;
    const ip = typeof first === 'object' && first !== null ? (first as { ip?: unknown }).ip : undefined;
    return typeof ip === 'string' ? ip : fieldValue(obj, 'status.podIP');
  },
};

/** The value a field selector compares for `label`. */
export function selectableValue(obj: KubeObject, label: string): string {
  const read = FIELD_READERS[label];
  return read === undefined ? fieldValue(obj, label) : read(obj);
}

/**
 * `fieldLabels`: the labels the type accepts (resources.ts); any other is refused with the API
 * server's 400 `field label not supported: <label>`, so a selector that a real cluster would refuse
 * does not quietly filter here.
 */
export function compileSelector(options: { labelSelector?: string; fieldSelector?: string; fieldLabels?: ReadonlySet<string> }): Selector {
  const labels = parseLabelSelector(options.labelSelector ?? '');
  const fields = parseFieldSelector(options.fieldSelector ?? '').map((r) => {
    if (options.fieldLabels !== undefined && !options.fieldLabels.has(r.path)) throw badRequest(`field label not supported: ${r.path}`);
    return r;
  });
  return {
    matches(obj: KubeObject): boolean {
      const objLabels = obj.metadata.labels ?? {};
      if (!labels.every((r) => requirementMatches(r, objLabels))) return false;
      return fields.every((r) => (selectableValue(obj, r.path) === r.value) === (r.op === 'eq'));
    },
  };
}
