/**
 * The RFC 6902 subset the provider overlay uses (add, remove, replace, test), applied the way
 * kustomize applies it, so `secretlet manifests` can replay deploy/overlays/* without kustomize.
 * `test` matters: the overlay guards index-based paths with it, and a failed test must stop the
 * render exactly as it stops `kubectl kustomize`.
 */
import { invalidArgument } from '../core/errors.js';

export type JsonPatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string };

const SUPPORTED = ['add', 'remove', 'replace', 'test'];

/** Validates raw YAML data as a list of supported operations; `source` names the file in errors. */
export function parseJsonPatch(raw: unknown, source: string): JsonPatchOperation[] {
  if (!Array.isArray(raw)) throw invalidArgument('InvalidPatch', `${source}: a JSON patch must be a list of operations`, source);
  return raw.map((entry: unknown, i) => {
    const op = entry as Record<string, unknown> | null;
    const field = `${source}[${i}]`;
    if (typeof op !== 'object' || op === null || typeof op['op'] !== 'string' || typeof op['path'] !== 'string') {
      throw invalidArgument('InvalidPatch', `${field} needs string fields op and path`, field);
    }
    if (!SUPPORTED.includes(op['op'])) {
      throw invalidArgument('InvalidPatch', `${field}.op "${op['op']}" is not supported (only ${SUPPORTED.join(', ')})`, `${field}.op`);
    }
    if (op['op'] !== 'remove' && !('value' in op)) throw invalidArgument('InvalidPatch', `${field} needs a value`, `${field}.value`);
    return op as unknown as JsonPatchOperation;
  });
}

function pointerTokens(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw invalidArgument('InvalidPatch', `JSON pointer "${path}" must start with /`, 'path');
  return path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean, path: string): number {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw invalidArgument('PatchPathNotFound', `JSON pointer "${path}": "${token}" is not an array index`, 'path');
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) throw invalidArgument('PatchPathNotFound', `JSON pointer "${path}": index ${index} is out of range`, 'path');
  return index;
}

/** Deep structural equality of JSON data (key order ignored), as RFC 6902 `test` defines it. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function applyOne(doc: unknown, operation: JsonPatchOperation): unknown {
  const tokens = pointerTokens(operation.path);
  const last = tokens.pop();
  if (last === undefined) {
    if (operation.op === 'test') {
      if (!jsonEqual(doc, operation.value)) throw invalidArgument('PatchTestFailed', `test of "" failed`, 'path');
      return doc;
    }
    if (operation.op === 'remove') throw invalidArgument('InvalidPatch', 'cannot remove the whole document', 'path');
    return structuredClone(operation.value);
  }
  let parent: unknown = doc;
  for (const token of tokens) {
    if (Array.isArray(parent)) parent = parent[arrayIndex(token, parent.length, false, operation.path)];
    else if (typeof parent === 'object' && parent !== null && Object.hasOwn(parent, token)) parent = (parent as Record<string, unknown>)[token];
    else throw invalidArgument('PatchPathNotFound', `JSON pointer "${operation.path}" does not exist`, 'path');
  }
  if (Array.isArray(parent)) {
    const index = arrayIndex(last, parent.length, operation.op === 'add', operation.path);
    if (operation.op === 'add') parent.splice(index, 0, structuredClone(operation.value));
    else if (operation.op === 'remove') parent.splice(index, 1);
    else if (operation.op === 'replace') parent[index] = structuredClone(operation.value);
    else if (!jsonEqual(parent[index], operation.value)) throw invalidArgument('PatchTestFailed', `test of "${operation.path}" failed`, 'path');
    return doc;
  }
  if (typeof parent !== 'object' || parent === null) throw invalidArgument('PatchPathNotFound', `JSON pointer "${operation.path}" does not exist`, 'path');
  const record = parent as Record<string, unknown>;
  const exists = Object.hasOwn(record, last);
  if (operation.op !== 'add' && !exists) throw invalidArgument('PatchPathNotFound', `JSON pointer "${operation.path}" does not exist`, 'path');
  if (operation.op === 'remove') delete record[last];
  else if (operation.op === 'test') {
    if (!jsonEqual(record[last], operation.value)) throw invalidArgument('PatchTestFailed', `test of "${operation.path}" failed`, 'path');
  } else record[last] = structuredClone(operation.value);
  return doc;
}

/** Applies the operations in order to a copy of `doc`; the input is never modified. */
export function applyJsonPatch<T>(doc: T, operations: readonly JsonPatchOperation[]): T {
  let result: unknown = structuredClone(doc);
  for (const operation of operations) result = applyOne(result, operation);
  return result as T;
}
