/**
 * Field readers for awsJson1_1 request bodies. They enforce presence and type the way AWS
 * validation does, naming the field, so handlers can trust what they read.
 */
import { awsError } from './aws-error.js';

export type JsonBody = Record<string, unknown>;

export function parseJsonBody(body: Buffer, invalidCode: string): JsonBody {
  if (body.length === 0) return {};
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as JsonBody;
  } catch {
    // fall through to the error below
  }
  throw awsError(invalidCode, 'The request body is not a JSON object.');
}

export class JsonInput {
  readonly #body: JsonBody;
  readonly #invalidCode: string;

  /** @param invalidCode the error code this service uses for bad input */
  constructor(body: JsonBody, invalidCode: string) {
    this.#body = body;
    this.#invalidCode = invalidCode;
  }

  #invalid(field: string, rule: string): Error {
    return awsError(this.#invalidCode, `1 validation error detected: Value at '${lowerFirst(field)}' failed to satisfy constraint: ${rule}`);
  }

  optionalString(field: string): string | undefined {
    const value = this.#body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw this.#invalid(field, 'Member must be a string');
    return value;
  }

  string(field: string): string {
    const value = this.optionalString(field);
    if (value === undefined || value.length === 0) throw this.#invalid(field, 'Member must not be null');
    return value;
  }

  optionalBoolean(field: string): boolean | undefined {
    const value = this.#body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw this.#invalid(field, 'Member must be a boolean');
    return value;
  }

  optionalNumber(field: string): number | undefined {
    const value = this.#body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.#invalid(field, 'Member must be a number');
    return value;
  }

  optionalStringList(field: string): string[] | undefined {
    const value = this.#body[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      throw this.#invalid(field, 'Member must be a list of strings');
    }
    return value as string[];
  }

  optionalList(field: string): unknown[] | undefined {
    const value = this.#body[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw this.#invalid(field, 'Member must be a list');
    return value;
  }

  /** A blob member: base64 text on the wire. */
  optionalBlob(field: string): Uint8Array | undefined {
    const value = this.optionalString(field);
    if (value === undefined) return undefined;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw this.#invalid(field, 'Member must be base64 encoded');
    return new Uint8Array(Buffer.from(value, 'base64'));
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** awsJson timestamps are epoch seconds (fractional). */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}
