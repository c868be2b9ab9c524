/**
 * Server-side field validation (`fieldValidation=Strict|Warn|Ignore`, Warn when absent) and
 * pruning. A real server decodes a body into the kind's Go struct (built-in kinds) or prunes it
 * against the CRD's structural schema (custom resources): fields it does not know are dropped
 * either way. Strict makes them a 400 (`strict decoding error: unknown field "spec.bogusField"`),
 * Warn a `Warning` header per field, Ignore nothing. Custom resources are also checked against the
 * schema's types (422 `spec.provider: Invalid value: "integer": spec.provider in body must be of
 * type string: "integer"`), as the CRD strategy validates them.
 */
import { typeInvalid } from './field-errors.js';
import type { FieldError } from './field-errors.js';
import type { ApiResponse } from './http-exchange.js';
import type { FieldValidation } from './request-options.js';
import type { ResourceType } from './resources.js';
import { schemaOf } from './schemas.js';
import type { Schema } from './schemas.js';
import { badRequest, cannotBeHandled } from './status.js';
import type { KubeObject } from './types.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Drops, in place, what `schema` does not declare (and nulls, which decode as absent); returns the dropped paths. */
function prune(schema: Schema, value: unknown, path: string, unknown: string[]): void {
  if (schema.type === 'array' && Array.isArray(value)) {
    value.forEach((item, i) => prune(schema.items, item, `${path}[${i}]`, unknown));
    return;
  }
  if (schema.type !== 'object' || !isRecord(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const sub = schema.properties?.[key] ?? schema.additionalProperties;
    if (sub === undefined) {
      unknown.push(child(path, key));
      delete value[key];
    } else if (v === null && sub.type !== 'any') delete value[key];
    else prune(sub, v, child(path, key), unknown);
  }
}

/** Prunes `obj` in place as the type's decoder would; returns the paths of the unknown fields dropped. */
export function pruneUnknownFields(type: ResourceType, obj: KubeObject): string[] {
  const schema = schemaOf(type);
  const unknown: string[] = [];
  if (schema !== undefined) prune(schema, obj, '', unknown);
  return unknown;
}

/** The JSON type name kube-openapi reports for a value. */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function fits(schema: Schema, value: unknown): boolean {
  const actual = jsonType(value);
  if (schema.type === 'any' || schema.type === actual) return true;
  return schema.type === 'number' && actual === 'integer';
}

function typeErrors(schema: Schema, value: unknown, path: string, errors: FieldError[]): void {
  if (!fits(schema, value)) {
    const actual = jsonType(value);
    errors.push(typeInvalid(path, actual, `${path} in body must be of type ${schema.type}: ${JSON.stringify(actual)}`));
    return;
  }
  if (schema.type === 'array' && Array.isArray(value)) value.forEach((item, i) => typeErrors(schema.items, item, `${path}[${i}]`, errors));
  if (schema.type !== 'object' || !isRecord(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const sub = schema.properties?.[key] ?? schema.additionalProperties;
    // metadata is ObjectMeta's to check (400 on a bad type), not the CRD schema's.
    if (sub !== undefined && !(path === '' && key === 'metadata')) typeErrors(sub, v, child(path, key), errors);
  }
}

/** A custom resource's values that do not have their schema's type (the built-in kinds fail to decode instead). */
export function schemaTypeErrors(type: ResourceType, obj: KubeObject): FieldError[] {
  const schema = schemaOf(type);
  if (type.builtin || schema?.type !== 'object') return [];
  const errors: FieldError[] = [];
  for (const [key, v] of Object.entries(obj)) {
    const sub = schema.properties?.[key];
    if (sub !== undefined && key !== 'metadata') typeErrors(sub, v, key, errors);
  }
  return errors;
}

function strictText(unknown: readonly string[]): string {
  return `strict decoding error: ${unknown.map((p) => `unknown field ${JSON.stringify(p)}`).join(', ')}`;
}

/** Appends one `Warning: 299 - "<text>"` header, as the API server adds each warning. */
export function addWarning(res: ApiResponse, text: string): void {
  const previous = res.getHeader('Warning');
  const list = previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
  res.setHeader('Warning', [...list, warningValue(text)]);
}

/**
 * `299 - "<text>"` as UTF-8 bytes, as the API server writes it. Node writes each character of a
 * header as one byte, so a field name like `名前` would otherwise be cut to control bytes: a 500 over
 * HTTP/1.1, and over HTTP/2 a reset stream after the write had already happened.
 */
export function warningValue(text: string): string {
  return Buffer.from(`299 - ${JSON.stringify(text)}`, 'utf8').toString('latin1');
}

/**
 * Prunes a request's object and acts on what was unknown as `mode` asks. `patch`: the object is
 * the result of a PATCH, whose strict error is the bare decoding error (handlers/patch.go); a
 * create or update names the kind (`Secret in version "v1" cannot be handled as a Secret: ...`).
 */
export function checkFields(options: { type: ResourceType; obj: KubeObject; mode: FieldValidation; patch: boolean; res: ApiResponse }): void {
  const { type, obj, mode, patch, res } = options;
  const unknown = pruneUnknownFields(type, obj);
  if (unknown.length === 0 || mode === 'Ignore') return;
  if (mode === 'Warn') {
    for (const path of unknown) addWarning(res, `unknown field ${JSON.stringify(path)}`);
    return;
  }
  throw patch ? badRequest(strictText(unknown)) : cannotBeHandled(type, strictText(unknown));
}
