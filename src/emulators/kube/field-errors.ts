/**
 * Field-level validation errors, shaped like apimachinery's `field.Error`: each has a cause type
 * (FieldValueRequired, FieldValueInvalid, ...), the field path, and a body such as
 * `Required value` or `Invalid value: "a b": <why>`. A 422 Invalid Status lists them as
 * `details.causes` and joins them into its message, so clients can show what was wrong where.
 *
 * Bad values are quoted only when they are names or keys; a caller must never pass a secret's
 * data, which is why `tooLong` and `forbidden` take no value at all.
 */

export interface FieldError {
  /** The StatusCause type: FieldValueRequired, FieldValueInvalid, FieldValueForbidden, FieldValueTooLong. */
  readonly type: string;
  /** `data[tls.crt]`, `metadata.ownerReferences.uid`, `spec.expirationSeconds`. */
  readonly field: string;
  /** The message without the field, as ErrorBody() renders it. */
  readonly body: string;
}

function withDetail(base: string, detail: string): string {
  return detail === '' ? base : `${base}: ${detail}`;
}

/** How Go's `%q`/`%v` print a bad value: strings quoted, numbers and booleans bare. */
function printValue(value: string | number | boolean): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export function required(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, body: withDetail('Required value', detail) };
}

export function invalidValue(field: string, value: string | number | boolean, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, body: withDetail(`Invalid value: ${printValue(value)}`, detail) };
}

/** An Invalid whose value must not be shown (Secret contents), as the API server redacts it. */
export function invalidRedacted(field: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, body: withDetail('Invalid value: "<secret contents redacted>"', detail) };
}

export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, body: withDetail('Forbidden', detail) };
}

export function tooLong(field: string, maxBytes: number): FieldError {
  return { type: 'FieldValueTooLong', field, body: `Too long: must have at most ${maxBytes} bytes` };
}

/** `field: body`, as one error prints. */
export function fieldErrorText(error: FieldError): string {
  return `${error.field}: ${error.body}`;
}

/** The aggregate form of a list, as ErrorList.ToAggregate() prints it: one error bare, several in brackets. */
export function aggregateText(errors: readonly FieldError[]): string {
  const texts = [...new Set(errors.map(fieldErrorText))];
  return texts.length === 1 ? (texts[0] ?? '') : `[${texts.join(', ')}]`;
}

/** How encoding/json renders a bad value that is not a string, number or boolean (field.Error since 1.31). */
function jsonValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** field.NotSupported: `Unsupported value: "x": supported values: "a", "b"`. */
export function notSupported(field: string, value: unknown, supported: readonly string[]): FieldError {
  const detail = supported.length === 0 ? '' : `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`;
  return { type: 'FieldValueNotSupported', field, body: withDetail(`Unsupported value: ${jsonValue(value)}`, detail) };
}

/** field.Invalid with any bad value, rendered as the API server renders it (JSON for lists and objects). */
export function invalidAny(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, body: withDetail(`Invalid value: ${jsonValue(value)}`, detail) };
}

/** field.TypeInvalid, as a custom resource's schema reports a value of the wrong JSON type. */
export function typeInvalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueTypeInvalid', field, body: withDetail(`Invalid value: ${jsonValue(value)}`, detail) };
}
