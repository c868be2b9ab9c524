/**
 * JMESPath extraction from a JSON secret value (aws-provider.md §12): each `jmesPath` entry of an
 * object becomes its own file holding the string the expression selects.
 *
 * Errors keep ASCP's texts. ASCP counts them as non-fatal: the failover region is asked, and if
 * none serves the object the mount ends with the generic "Failed to fetch secret from all regions".
 * Here a mount with a failover region asks it too (mount/mount-job.ts `withJmesChecked`); a mount
 * without one fails with INVALID_ARGUMENT (reason `JmesPathFailed`) naming the object and entry.
 * They never contain the value.
 */
import { search } from '@jmespath-community/jmespath';
import type { JSONValue } from '@jmespath-community/jmespath';
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
 * Parses the value as JSON (any top-level value; invalid UTF-8 becomes U+FFFD and a BOM is an
 * error, as with Go's decoder) and returns one string per entry, in entry order.
 */
export function extractJmes(input: JmesExtraction): string[] {
  if (input.entries.length === 0) return [];
  const objectField = `objects[${input.objectIndex}]`;
  let data: JSONValue;
  try {
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(input.value);
    data = JSON.parse(text) as JSONValue;
  } catch {
    throw jmesError(`${objectField}.jmesPath`, `Invalid JSON used with jmesPath in secret: ${input.objectName}.`);
  }
  return input.entries.map((entry, k) => {
    const field = `${objectField}.jmesPath[${k}].path`;
    let result: JSONValue;
    try {
      result = search(data, entry.path);
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
