/**
 * Errors of the whole agent. Every failure that can reach a caller is a SecretletError: it carries
 * a gRPC status code (so each door translates it without guessing), a stable `reason` (used as the
 * metric error type and in Kubernetes Events), and, for bad input, the `field` it is about.
 *
 * Messages never contain secret values or tokens: they are built from names, fields and codes only.
 */

/** gRPC status codes by their canonical names; the gRPC adapter maps them to numbers. */
export type StatusCode =
  | 'CANCELLED'
  | 'UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'UNAUTHENTICATED';

const MARKER = Symbol.for('secretlet.SecretletError');

export interface SecretletErrorOptions {
  code: StatusCode;
  /** Stable, CamelCase machine reason, e.g. `InvalidObjectName`, `AccessDenied`, `Throttled`. */
  reason: string;
  message: string;
  /** The input field the error is about, e.g. `objects[2].objectName`, `target_path`. */
  field?: string;
  cause?: unknown;
}

export class SecretletError extends Error {
  readonly code: StatusCode;
  readonly reason: string;
  readonly field: string | undefined;

  constructor(options: SecretletErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SecretletError';
    this.code = options.code;
    this.reason = options.reason;
    this.field = options.field;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /**
   * Cross-realm safe (worker threads, vm contexts): checks a registered symbol, not the prototype.
   * Only for SecretletError itself: a subclass inherits this static method, and with the marker
   * check every SecretletError would pass for an instance of every subclass, so those keep the
   * ordinary prototype check.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    if (this !== SecretletError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Shorthand for the most common error: bad input, naming the field. */
export function invalidArgument(reason: string, message: string, field?: string): SecretletError {
  return new SecretletError({ code: 'INVALID_ARGUMENT', reason, message, ...(field === undefined ? {} : { field }) });
}

/** The plain-data form that crosses a worker-thread boundary (never post raw Error objects). */
export interface PlainError {
  name: string;
  code: StatusCode;
  reason: string;
  message: string;
  field?: string;
}

export function toPlainError(err: unknown): PlainError {
  if (err instanceof SecretletError) {
    return {
      name: err.name,
      code: err.code,
      reason: err.reason,
      message: err.message,
      ...(err.field === undefined ? {} : { field: err.field }),
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { name: 'Error', code: 'INTERNAL', reason: 'Internal', message };
}

export function fromPlainError(plain: PlainError): SecretletError {
  return new SecretletError(plain);
}

/** Wraps anything thrown into a SecretletError, keeping one that already is. */
export function asSecretletError(err: unknown, fallback: Omit<SecretletErrorOptions, 'message' | 'cause'>): SecretletError {
  if (err instanceof SecretletError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SecretletError({ ...fallback, message, cause: err });
}
