/**
 * The error an emulated AWS API answers with. It is protocol-neutral (code, HTTP status, message):
 * the router renders it as awsJson1_1 (`__type`), awsQuery XML (`ErrorResponse`) or the pod identity
 * agent's JSON, so handlers throw one type whatever door the call came through.
 *
 * This is deliberately not a SecretletError: it models AWS's wire errors, which are the emulator's
 * product, not the agent's domain failures.
 */
import type { CallOutcome } from './types.js';

export class AwsApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** Whether AWS blames the caller (`Sender`) or itself (`Receiver`); shown in awsQuery errors. */
  readonly fault: 'Sender' | 'Receiver';

  constructor(options: { code: string; message: string; status?: number }) {
    super(options.message);
    this.name = 'AwsApiError';
    this.code = options.code;
    this.status = options.status ?? 400;
    this.fault = this.status >= 500 ? 'Receiver' : 'Sender';
  }
}

export function awsError(code: string, message: string, status = 400): AwsApiError {
  return new AwsApiError({ code, message, status });
}

const THROTTLE_CODES = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException']);
const DENIED_CODES = new Set(['AccessDeniedException', 'AccessDenied']);

/** The counted outcome of a call that failed with `err`. */
export function outcomeOf(err: AwsApiError): CallOutcome {
  if (THROTTLE_CODES.has(err.code)) return 'throttled';
  if (DENIED_CODES.has(err.code)) return 'denied';
  if (err.status >= 500) return 'unavailable';
  return 'error';
}
