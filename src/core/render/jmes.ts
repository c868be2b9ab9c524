/**
 * JMESPath extraction from a JSON secret value (aws-provider.md §12): each `jmesPath` entry of an
 * object becomes its own file holding the string the expression selects.
 *
 * Errors keep ASCP's texts. ASCP counts them as non-fatal: the failover region is asked, and if
 * none serves the object the mount ends with the generic "Failed to fetch secret from all regions".
 * Here a mount with a failover region asks it too (mount/mount-job.ts `withJmesChecked`); a mount
 * without one fails with INVALID_ARGUMENT (reason `JmesPathFailed`) naming the object and entry.
 * They never contain the value.
 *
 * The evaluator is jmespath.js (its parser, and its interpreter ported in jmes-eval.ts), the
 * reference implementation of the JMESPath spec go-jmespath 0.4.0 (ASCP's) implements: the same
 * grammar and the same 26 functions, so an expression ASCP refuses (`upper(x)`, `$`, `let`,
 * arithmetic) is refused here too, and a slice of a string is null, not a substring. Two things are
 * made to match Go's decoding of the secret: objects have no prototype (`constructor` is a missing
 * key, not a function) and keep their keys in Go's order (UTF-8 bytes), so `to_string(obj)` lists
 * them as Go's json.Marshal does. jmespath.js's own `search` throws on such objects in `||`, `&&`,
 * `!` and `[?…]`, hence the port. Two differences stay in `to_string` of an object or array:
 * json.Marshal escapes <, > and & (as \u003c, …), and keys that are array indexes ("10", "9") come
 * first in numeric order, as JavaScript always lists them.
 */
import { decodeUtf8AsGo } from './go-utf8.js';
import { goObject, searchAsGo } from './jmes-eval.js';
import { JMES_MAX_BYTES, jmesBound } from './jmes-bound.js';
import { invalidArgument } from '../errors.js';
import type { SecretletError } from '../errors.js';
import type { JmesPathEntry } from '../model.js';

export interface JmesExtraction {
  /** Index of the object in `objects`, for error fields. */
  objectIndex: number;
  objectName: string;
  value: Uint8Array;
  entries: readonly JmesPathEntry[];
}

/** The reason of every extraction error (mount/mount-job.ts falls over on it). */
export const JMES_PATH_FAILED = 'JmesPathFailed';

function jmesError(field: string, message: string): SecretletError {
  return invalidArgument(JMES_PATH_FAILED, `${message} (${field})`, field);
}

/**
 * Parses the value as JSON (any top-level value; each invalid UTF-8 byte becomes U+FFFD and a BOM
 * is an error, as with Go's decoder) and returns one string per entry, in entry order.
 */
export function extractJmes(input: JmesExtraction): string[] {
  if (input.entries.length === 0) return [];
  const objectField = `objects[${input.objectIndex}]`;
  let data: unknown;
  try {
    const text = decodeUtf8AsGo(input.value);
    data = JSON.parse(text, asGoDecodes);
  } catch {
    throw jmesError(`${objectField}.jmesPath`, `Invalid JSON used with jmesPath in secret: ${input.objectName}.`);
  }
  return input.entries.map((entry, k) => {
    const field = `${objectField}.jmesPath[${k}].path`;
    let result: unknown;
    let bound: number;
    try {
      bound = jmesBound(entry.path, input.value.length);
    } catch {
      throw jmesError(field, `Invalid JMES Path: ${entry.path}.`);
    }
    if (bound > JMES_MAX_BYTES) {
      // Neither the bound nor the value's size is named: the message reaches Events, and a size is a fact about the value.
      throw jmesError(field, `JMES Path - ${entry.path} for object alias - ${entry.objectAlias} could build values over ${JMES_MAX_BYTES} bytes; secretlet refuses such paths.`);
    }
    try {
      result = searchAsGo(data, entry.path);
    } catch {
      throw jmesError(field, `Invalid JMES Path: ${entry.path}.`);
    }
    if (result === null || result === undefined) {
      throw jmesError(field, `JMES Path - ${entry.path} for object alias - ${entry.objectAlias} does not point to a valid object.`);
    }
    if (typeof result !== 'string') {
      throw jmesError(field, `Invalid JMES search result type for path:${entry.path}. Only string is allowed.`);
    }
    return result;
  });
}

/** JSON.parse reviver: each object rebuilt without a prototype, its keys in Go's order. */
function asGoDecodes(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return goObject(value as Record<string, unknown>);
}
