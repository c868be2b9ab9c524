/**
 * A validation failure of one `objects` entry, before it is tied to its position: the helpers
 * (object names, file names, duplicates) report problems relative to the object, and the validator
 * turns them into a SecretletError naming `objects[i].<field>` in both `field` and message.
 */
import { invalidArgument } from '../errors.js';
import type { SecretletError } from '../errors.js';

export interface ObjectProblem {
  /** Stable machine reason, e.g. `InvalidObjectType`. */
  reason: string;
  /** ASCP's text where ASCP has one. */
  message: string;
  /** The field inside the object, e.g. `objectType`, `jmesPath[1].objectAlias`; '' for the whole entry. */
  field: string;
}

/** `objects[2].objectType`, or `objects[2]` for the entry itself. */
export function objectField(index: number, field: string): string {
  return field === '' ? `objects[${index}]` : `objects[${index}].${field}`;
}

export function objectError(index: number, problem: ObjectProblem): SecretletError {
  const where = objectField(index, problem.field);
  return invalidArgument(problem.reason, `${problem.message} (${where})`, where);
}
