/**
 * The query options of a write, validated as the API server's handlers do before anything else
 * (ValidateCreateOptions, ValidateUpdateOptions, ValidatePatchOptions, ValidateDeleteOptions): a
 * `dryRun` other than `All` or an unknown `fieldValidation` is a 422 Invalid about the options
 * object (`CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ...`).
 */
import { notSupported } from './field-errors.js';
import type { FieldError } from './field-errors.js';
import type { Verb } from './routes.js';
import { badRequest, invalidFields } from './status.js';

/** How unknown fields in a body are treated; the server's default (no parameter) is Warn. */
export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export interface WriteRequestOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
}

const OPTIONS_KIND: Partial<Record<Verb, string>> = {
  create: 'CreateOptions',
  update: 'UpdateOptions',
  patch: 'PatchOptions',
  delete: 'DeleteOptions',
  deletecollection: 'DeleteOptions',
};

/** DeleteOptions may carry `dryRun` in the body too (client-go sends it there). */
function bodyDryRun(verb: Verb, body: unknown): string[] {
  if (verb !== 'delete' && verb !== 'deletecollection') return [];
  const value = typeof body === 'object' && body !== null ? (body as { dryRun?: unknown }).dryRun : undefined;
  return Array.isArray(value) ? value.map(String) : [];
}

/** The options of a write request; throws the 422 of invalid ones. Reads (get, list, watch) have none. */
export function writeOptions(verb: Verb, query: URLSearchParams, body: unknown): WriteRequestOptions {
  const kind = OPTIONS_KIND[verb];
  if (kind === undefined) return { dryRun: false, fieldValidation: 'Warn' };
  const errors: FieldError[] = [];
  const dryRun = [...query.getAll('dryRun'), ...bodyDryRun(verb, body)];
  if (dryRun.some((v) => v !== 'All')) errors.push(notSupported('dryRun', dryRun, ['All']));
  const validation = query.get('fieldValidation') ?? '';
  const deletes = verb === 'delete' || verb === 'deletecollection';
  if (!deletes && !['', 'Ignore', 'Warn', 'Strict'].includes(validation)) errors.push(notSupported('fieldValidation', validation, ['', 'Ignore', 'Strict', 'Warn']));
  if (errors.length > 0) throw invalidFields({ group: 'meta.k8s.io', kind }, '', errors);
  return { dryRun: dryRun.length > 0, fieldValidation: validation === '' ? 'Warn' : (validation as FieldValidation) };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * An integer query parameter of a list or watch (`limit`, `timeoutSeconds`), undefined when absent.
 * The API server decodes these with strconv.ParseInt into an int64 and answers a value that does
 * not parse with 400 BadRequest in its words, rather than reading `abc` as no limit; it does not
 * refuse negative values (a negative limit lists everything, a negative timeout ends a watch).
 */
export function int64Param(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  if (!/^[+-]?[0-9]+$/.test(text)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`);
  const value = BigInt(text);
  if (value < INT64_MIN || value > INT64_MAX) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(text)}: value out of range`);
  return Number(value);
}
