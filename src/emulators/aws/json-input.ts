/**
 * Field readers for awsJson1_1 request bodies. As in AWS, there are two layers of refusal: a body
 * that cannot be decoded into the operation's input shape (not a JSON object, or a member of the
 * wrong JSON type) fails deserialization with `SerializationException`, before the service sees
 * it; a well-typed value the service does not accept (empty, out of range) gets the service's own
 * validation code. Messages name the member, never its value.
 */
import { awsError, type AwsApiError } from './aws-error.js';

export type JsonBody = Record<string, unknown>;

/** The awsJson protocol's error for input it cannot deserialize, whatever the service. */
export function serializationError(message: string): AwsApiError {
  return awsError('SerializationException', message);
}

export function parseJsonBody(body: Buffer): JsonBody {
  if (body.length === 0) return {};
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as JsonBody;
  } catch {
    // fall through to the error below
  }
  throw serializationError('The request body is not a JSON object.');
}

function wrongType(field: string, expected: string): AwsApiError {
  return serializationError(`Member ${field} must be ${expected}.`);
}

export class JsonInput {
  readonly #body: JsonBody;
  readonly #invalidCode: string;

  /** @param invalidCode the error code this service uses for bad input */
  constructor(body: JsonBody, invalidCode: string) {
    this.#body = body;
    this.#invalidCode = invalidCode;
  }

  #invalid(field: string, rule: string): AwsApiError {
    return awsError(this.#invalidCode, `1 validation error detected: Value at '${lowerFirst(field)}' failed to satisfy constraint: ${rule}`);
  }

  optionalString(field: string): string | undefined {
    const value = this.#body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw wrongType(field, 'a string');
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
    if (typeof value !== 'boolean') throw wrongType(field, 'a boolean');
    return value;
  }

  optionalNumber(field: string): number | undefined {
    const value = this.#body[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number') throw wrongType(field, 'a number');
    return value;
  }

  optionalStringList(field: string): string[] | undefined {
    const value = this.#body[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw wrongType(field, 'a list of strings');
    return value as string[];
  }

  optionalList(field: string): unknown[] | undefined {
    const value = this.#body[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw wrongType(field, 'a list');
    return value;
  }

  /**
   * A string member with the API model's length bounds. Out of bounds is refused as the awsJson
   * validation layer refuses it, with `ValidationException` whatever the service, before the
   * service's own checks (the same code the Filter values of BatchGetSecretValue get).
   */
  optionalBoundedString(field: string, bounds: LengthBounds): string | undefined {
    const value = this.optionalString(field);
    if (value !== undefined) assertLength(field, lengthOf(value), bounds);
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

export interface LengthBounds {
  min?: number;
  max?: number;
}

/** Smithy's `@length` counts a string in Unicode code points, not UTF-16 units. */
export function lengthOf(value: string): number {
  // Each surrogate pair is two UTF-16 units but one code point.
  return value.length - (value.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);
}

/** The validation layer's refusal of a member outside its model length (values are never quoted). */
export function assertLength(field: string, length: number, bounds: LengthBounds): void {
  const { min, max } = bounds;
  let rule: string | undefined;
  if (min !== undefined && length < min) rule = `greater than or equal to ${min}`;
  else if (max !== undefined && length > max) rule = `less than or equal to ${max}`;
  if (rule !== undefined) {
    throw awsError(
      'ValidationException',
      `1 validation error detected: Value at '${lowerFirst(field)}' failed to satisfy constraint: Member must have length ${rule}`,
    );
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** awsJson timestamps are epoch seconds (fractional). */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}
