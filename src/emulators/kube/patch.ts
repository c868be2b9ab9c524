/**
 * The PATCH formats the API server accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
 * strategic merge patch. For the emulator's resources strategic merge is applied as a merge patch
 * after removing its `$`-directives (what kubectl's client-side apply and `kubectl annotate` send
 * for built-in types); lists are replaced, not merged by key, which is what matters for our objects.
 */
import { badRequest } from './status.js';

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

/** Strategic merge patch, reduced to merge patch: honours `$patch: delete|replace`, drops other directives. */
export function applyStrategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch['$patch'] === 'replace') return stripDirectives(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null || (isObject(value) && value['$patch'] === 'delete')) delete result[key];
    else result[key] = applyStrategicMergePatch(result[key], value);
  }
  return result;
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) out[k] = stripDirectives(v);
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`json patch: invalid path "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function resolveParent(doc: Json, tokens: string[], pointer: string): { parent: Json; key: string } {
  let current: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(current)
      ? current[Number(token)]
      : isObject(current)
        ? (current as Record<string, Json>)[token]
        : undefined;
    if (next === undefined) throw badRequest(`json patch: path "${pointer}" does not exist`);
    current = next;
  }
  return { parent: current, key: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, key } = resolveParent(doc, tokens, pointer);
  const value = Array.isArray(parent) ? parent[Number(key)] : isObject(parent) ? (parent as Record<string, Json>)[key] : undefined;
  if (value === undefined) throw badRequest(`json patch: path "${pointer}" does not exist`);
  return value;
}

function removeAt(doc: Json, pointer: string): void {
  const tokens = parsePointer(pointer);
  const { parent, key } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length) throw badRequest(`json patch: path "${pointer}" does not exist`);
    parent.splice(index, 1);
  } else if (isObject(parent) && key in parent) delete (parent as Record<string, Json>)[key];
  else throw badRequest(`json patch: path "${pointer}" does not exist`);
}

function addAt(doc: Json, pointer: string, value: Json, replace: boolean): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = resolveParent(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw badRequest(`json patch: bad index in "${pointer}"`);
    parent.splice(index, replace ? 1 : 0, value);
  } else if (isObject(parent)) {
    if (replace && !(key in parent)) throw badRequest(`json patch: path "${pointer}" does not exist`);
    (parent as Record<string, Json>)[key] = value;
  } else throw badRequest(`json patch: path "${pointer}" does not exist`);
  return doc;
}

/** RFC 6902 over a copy of `target`; a failed `test` or a missing path rejects the whole patch. */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('json patch: the body must be a JSON array of operations');
  let doc = structuredClone(target) as Json;
  for (const raw of patch as JsonPatchOp[]) {
    const value = structuredClone(raw.value) as Json;
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
        const moved = getAt(doc, raw.from ?? '');
        removeAt(doc, raw.from ?? '');
        doc = addAt(doc, raw.path, moved, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, raw.path, structuredClone(getAt(doc, raw.from ?? '')), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, raw.path)) !== JSON.stringify(value))
          throw badRequest(`json patch: test operation failed at "${raw.path}"`);
        break;
      default:
        throw badRequest(`json patch: unknown operation "${String(raw.op)}"`);
    }
  }
  return doc;
}
