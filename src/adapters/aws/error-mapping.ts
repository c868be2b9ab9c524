/**
 * The one place where AWS failures become domain errors. Every SDK exception, per-secret batch error
 * entry, STS refusal, agent reply and socket error is turned into a SecretletError whose code decides
 * what happens next (client faults are fatal; UNAVAILABLE / DEADLINE_EXCEEDED are retried or failed
 * over, but a request aborted on purpose is never retried). The message names the action, object and
 * region and the AWS error code, never a value or a token: AWS messages are kept (they explain IAM
 * denials) but anything shaped like a JWT is cut out.
 */
import { SecretletError } from '../../core/errors.js';
import type { StatusCode } from '../../core/errors.js';

export interface AwsErrorContext {
  /** The AWS API action, e.g. `GetSecretValue`. */
  action: string;
  region: string;
  /** The secret id / parameter name the error is about, when it is about one object. */
  objectId?: string;
}

interface Classification {
  code: StatusCode;
  reason: string;
}

const NOT_FOUND: Classification = { code: 'NOT_FOUND', reason: 'ObjectNotFound' };
const ACCESS_DENIED: Classification = { code: 'PERMISSION_DENIED', reason: 'AccessDenied' };
const DECRYPTION: Classification = { code: 'PERMISSION_DENIED', reason: 'DecryptionFailure' };
const THROTTLED: Classification = { code: 'UNAVAILABLE', reason: 'Throttled' };
const UNAVAILABLE: Classification = { code: 'UNAVAILABLE', reason: 'AwsUnavailable' };
const TIMEOUT: Classification = { code: 'DEADLINE_EXCEEDED', reason: 'AwsTimeout' };
/** The SDK's AbortError comes only from an abort signal (its own timeouts are TimeoutError). */
const ABORTED: Classification = { code: 'DEADLINE_EXCEEDED', reason: 'RequestAborted' };
const BAD_TOKEN: Classification = { code: 'UNAUTHENTICATED', reason: 'InvalidIdentityToken' };
const INVALID: Classification = { code: 'INVALID_ARGUMENT', reason: 'InvalidRequest' };

const BY_AWS_CODE: ReadonlyMap<string, Classification> = new Map([
  ['ResourceNotFoundException', NOT_FOUND],
  ['ParameterNotFound', NOT_FOUND],
  ['ParameterVersionNotFound', NOT_FOUND],
  ['InvalidParameters', NOT_FOUND],
  ['AccessDeniedException', ACCESS_DENIED],
  ['AccessDenied', ACCESS_DENIED],
  ['KMSAccessDeniedException', ACCESS_DENIED],
  ['KMSDisabledException', DECRYPTION],
  ['KMSInvalidStateException', DECRYPTION],
  ['KMSNotFoundException', DECRYPTION],
  ['InvalidKeyId', DECRYPTION],
  ['DecryptionFailure', DECRYPTION],
  ['ThrottlingException', THROTTLED],
  ['Throttling', THROTTLED],
  ['TooManyUpdates', THROTTLED],
  ['TooManyRequestsException', THROTTLED],
  ['RequestLimitExceeded', THROTTLED],
  ['ThrottledException', THROTTLED],
  ['SlowDown', THROTTLED],
  ['InternalServiceError', UNAVAILABLE],
  ['InternalServiceErrorException', UNAVAILABLE],
  ['InternalServerError', UNAVAILABLE],
  ['InternalFailure', UNAVAILABLE],
  ['InternalError', UNAVAILABLE],
  ['ServiceUnavailable', UNAVAILABLE],
  ['ServiceUnavailableException', UNAVAILABLE],
  ['IDPCommunicationError', UNAVAILABLE],
  ['IDPCommunicationErrorException', UNAVAILABLE],
  ['InvalidIdentityToken', BAD_TOKEN],
  ['InvalidIdentityTokenException', BAD_TOKEN],
  ['ExpiredToken', BAD_TOKEN],
  ['ExpiredTokenException', BAD_TOKEN],
  ['IDPRejectedClaim', BAD_TOKEN],
  ['IDPRejectedClaimException', BAD_TOKEN],
  ['UnrecognizedClientException', BAD_TOKEN],
  ['InvalidClientTokenId', BAD_TOKEN],
  ['InvalidParameterException', INVALID],
  ['InvalidParameter', INVALID],
  ['InvalidRequestException', INVALID],
  ['InvalidRequest', INVALID],
  ['ValidationException', INVALID],
  ['ValidationError', INVALID],
  ['TimeoutError', TIMEOUT],
  ['AbortError', ABORTED],
  ['RequestTimeout', TIMEOUT],
  ['RequestTimeoutException', TIMEOUT],
]);

/** Node socket error codes: the request never got an AWS answer. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ECONNABORTED',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** Classifies an AWS error code (and HTTP status) as found in an exception or a batch `Errors[]` entry. */
export function classifyAwsCode(awsCode: string, action: string, httpStatus?: number): Classification {
  // SSM rejects malformed parameter names with ValidationException: to the user that object does not exist.
  if (action === 'GetParameters' && (awsCode === 'ValidationException' || awsCode === 'ParameterPatternMismatch')) {
    return NOT_FOUND;
  }
  const known = BY_AWS_CODE.get(awsCode);
  if (known) return known;
  if (/throttl/i.test(awsCode) || httpStatus === 429) return THROTTLED;
  if (httpStatus !== undefined && httpStatus >= 500) return UNAVAILABLE;
  if (httpStatus === 401) return BAD_TOKEN;
  if (httpStatus === 403) return ACCESS_DENIED;
  if (httpStatus === 404) return NOT_FOUND;
  if (httpStatus !== undefined && httpStatus >= 400) return INVALID;
  return { code: 'INTERNAL', reason: 'Internal' };
}

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $response?: { statusCode?: unknown };
  cause?: unknown;
}

function shapeOf(err: unknown): ErrorShape {
  return typeof err === 'object' && err !== null ? (err as ErrorShape) : {};
}

/** Removes anything that looks like a JWT or a long opaque credential, and bounds the length. */
export function scrubAwsMessage(message: string): string {
  const cleaned = message
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '<token>')
    .replace(/\b[A-Za-z0-9+/=]{80,}\b/g, '<redacted>')
    .replace(/\s+/g, ' ')
    .trim();
  return cleaned.length > 300 ? `${cleaned.slice(0, 300)}…` : cleaned;
}

function describe(ctx: AwsErrorContext, awsCode: string, awsMessage: string): string {
  const what = ctx.objectId === undefined ? ctx.action : `${ctx.action} of ${ctx.objectId}`;
  const detail = awsMessage === '' ? '' : `: ${scrubAwsMessage(awsMessage)}`;
  return `${what} in ${ctx.region} failed with ${awsCode}${detail}`;
}

/** Turns anything thrown by an AWS call into a SecretletError (a SecretletError is returned unchanged). */
export function mapAwsError(err: unknown, ctx: AwsErrorContext): SecretletError {
  if (err instanceof SecretletError) return err;
  const e = shapeOf(err);
  const name = typeof e.name === 'string' ? e.name : '';
  const sysCode = typeof e.code === 'string' ? e.code : typeof shapeOf(e.cause).code === 'string' ? String(shapeOf(e.cause).code) : '';
  const status =
    typeof e.$metadata?.httpStatusCode === 'number'
      ? e.$metadata.httpStatusCode
      : typeof e.$response?.statusCode === 'number'
        ? e.$response.statusCode
        : undefined;
  const message = typeof e.message === 'string' ? e.message : '';

  let awsCode = typeof e.Code === 'string' ? e.Code : name;
  let classification: Classification;
  if (NETWORK_CODES.has(sysCode)) {
    awsCode = sysCode;
    classification = { code: 'UNAVAILABLE', reason: 'AwsUnreachable' };
  } else if (sysCode === 'ETIMEDOUT' || sysCode === 'ESOCKETTIMEDOUT') {
    awsCode = sysCode;
    classification = TIMEOUT;
  } else {
    classification = classifyAwsCode(awsCode, ctx.action, status);
    if (classification.code === 'INTERNAL' && e.$fault === 'server') classification = UNAVAILABLE;
    if (classification.code === 'INTERNAL' && e.$fault === 'client') classification = INVALID;
  }
  if (awsCode === '' || awsCode === 'Error') awsCode = 'UnknownError';
  return new SecretletError({
    code: classification.code,
    reason: classification.reason,
    message: describe(ctx, awsCode, message),
    cause: err,
  });
}

/** Maps one `BatchGetSecretValue` `Errors[]` entry (a per-secret failure inside a 200 answer). */
export function mapBatchErrorEntry(entry: { ErrorCode?: string; Message?: string }, ctx: AwsErrorContext): SecretletError {
  const awsCode = entry.ErrorCode ?? 'UnknownError';
  const classification = classifyAwsCode(awsCode, 'GetSecretValue');
  return new SecretletError({
    code: classification.code === 'INTERNAL' ? 'UNAVAILABLE' : classification.code,
    reason: classification.code === 'INTERNAL' ? 'AwsUnavailable' : classification.reason,
    message: describe(ctx, awsCode, entry.Message ?? ''),
  });
}

/**
 * True when a mapped error is worth retrying after a backoff: throttling, 5xx, network, and timeouts,
 * which the Go SDK's standard retryer retries too (aws-provider.md §10.4) and which are what a Pod
 * Identity agent that is not ready yet looks like (§10.3). An aborted request is not: whoever aborted
 * it wants it to stop.
 */
export function isRetryable(err: SecretletError): boolean {
  return err.code === 'UNAVAILABLE' || isTimeout(err);
}

/** A request that got no answer in time (SDK TimeoutError, ETIMEDOUT, RequestTimeout, ...). */
export function isTimeout(err: SecretletError): boolean {
  return err.reason === TIMEOUT.reason;
}

export function isThrottle(err: SecretletError): boolean {
  return err.reason === 'Throttled';
}
