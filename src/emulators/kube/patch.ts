/**
 * The PATCH formats the API server accepts besides strategic merge patch (strategic-merge.ts):
 * JSON merge patch (RFC 7386) and JSON patch (RFC 6902).
 *
 * A JSON patch that is not a list of operations is a 400 BadRequest; one that decodes but cannot
 * be applied (a failed `test`, a path that is not there) is the API server's bare 422 Invalid.
 */
import { MAX_JSON_DEPTH } from './body.js';
import { badRequest, patchNotApplicable } from './status.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/** JSON with sorted keys: `test` compares values, not the order of their keys. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw patchNotApplicable();
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Pointer tokens that name an object's prototype machinery in JavaScript but nothing in a
 * Kubernetes object. Following or assigning `__proto__` reached `Object.prototype` and changed every
 * object in the process; a Go API server has no such member, so to it the path does not exist.
 */
const FORBIDDEN_TOKENS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The member `token` names in `container`: an array index or an own property, never an inherited one. */
function member(container: Json, token: string): Json | undefined {
  if (FORBIDDEN_TOKENS.has(token)) throw patchNotApplicable();
  if (Array.isArray(container)) return container[Number(token)];
  if (isObject(container) && Object.hasOwn(container, token)) return (container as Record<string, Json>)[token];
  return undefined;
}

function resolveParent(doc: Json, tokens: string[]): { parent: Json; key: string } {
  let current: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    const next = member(current, token);
    if (next === undefined) throw patchNotApplicable();
    current = next;
  }
  const key = tokens[tokens.length - 1] ?? '';
  if (FORBIDDEN_TOKENS.has(key)) throw patchNotApplicable();
  return { parent: current, key };
}

function getAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, key } = resolveParent(doc, tokens);
  const value = member(parent, key);
  if (value === undefined) throw patchNotApplicable();
  return value;
}

function removeAt(doc: Json, pointer: string): void {
  const tokens = parsePointer(pointer);
  const { parent, key } = resolveParent(doc, tokens);
  if (Array.isArray(parent)) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length) throw patchNotApplicable();
    parent.splice(index, 1);
  } else if (isObject(parent) && Object.hasOwn(parent, key)) delete (parent as Record<string, Json>)[key];
  else throw patchNotApplicable();
}

function addAt(doc: Json, pointer: string, value: Json, replace: boolean): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = resolveParent(doc, tokens);
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw patchNotApplicable();
    parent.splice(index, replace ? 1 : 0, value);
  } else if (isObject(parent)) {
    if (replace && !Object.hasOwn(parent, key)) throw patchNotApplicable();
    (parent as Record<string, Json>)[key] = value;
  } else throw patchNotApplicable();
  return doc;
}

/** The operations of a JSON patch body, or the 400 of one that is not a list of operations. */
function decodeJsonPatch(patch: unknown): JsonPatchOp[] {
  if (!Array.isArray(patch)) throw badRequest('json patch: the body must be a JSON array of operations');
  return patch.map((raw: unknown, index) => {
    if (!isObject(raw)) throw badRequest(`json patch: operation ${index} is not an object`);
    const { op, path, from } = raw;
    if (typeof op !== 'string') throw badRequest(`json patch: operation ${index} has no "op"`);
    if (typeof path !== 'string') throw badRequest(`json patch: operation ${index} has no "path"`);
    if (from !== undefined && typeof from !== 'string') throw badRequest(`json patch: the "from" of operation ${index} is not a string`);
    return { op, path, ...(from === undefined ? {} : { from }), ...('value' in raw ? { value: raw['value'] } : {}) };
  });
}

/** The source of a move or copy; without one the operation cannot be applied. */
function fromOf(op: JsonPatchOp): string {
  if (op.from === undefined) throw patchNotApplicable();
  return op.from;
}

/**
 * Whether `value` nests arrays and objects deeper than `limit`, found without recursion. A JSON
 * patch can build an object deeper than any body it came in (an `add` or `copy` at the end of a
 * long pointer), and the emulator's recursive code overflows the stack on such an object.
 */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= limit) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}

/** RFC 6902 over a copy of `target`; a failed `test` or a missing path rejects the whole patch (422). */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  const operations = decodeJsonPatch(patch);
  let doc = structuredClone(target) as Json;
  for (const raw of operations) {
    const value = structuredClone(raw.value) as Json;
    if ((raw.op === 'add' || raw.op === 'replace' || raw.op === 'test') && !('value' in raw)) throw patchNotApplicable();
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, raw.path, value, false);
        break;
      case 'replace':
        doc = addAt(doc, raw.path, value, true);
        break;
      case 'remove':
        removeAt(doc, raw.path);
        break;
      case 'move': {
        const from = fromOf(raw);
        const moved = getAt(doc, from);
        removeAt(doc, from);
        doc = addAt(doc, raw.path, moved, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, raw.path, structuredClone(getAt(doc, fromOf(raw))), false);
        break;
      case 'test':
        if (canonicalJson(getAt(doc, raw.path)) !== canonicalJson(value)) throw patchNotApplicable();
        break;
      default:
        // Decodes, but the patch library cannot apply it ("Unexpected kind").
        throw patchNotApplicable();
    }
  }
  // A real API server decodes the patched object again and answers 422 when that fails; this one
  // refuses what its recursive code could not handle, as its body decoder does (body.ts).
  if (nestsDeeperThan(doc, MAX_JSON_DEPTH)) throw patchNotApplicable();
  return doc;
}
