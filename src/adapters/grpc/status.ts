/**
 * The one place where an error thrown behind a gRPC door becomes a gRPC status. A SecretletError
 * already names its canonical status code, so the mapping is a lookup; anything else is a bug or an
 * unexpected failure and becomes UNKNOWN with its message kept (as grpc-js does for thrown errors,
 * and as the Go driver does for plain errors), so the caller still sees what went wrong.
 */
import * as grpc from '@grpc/grpc-js';
import { SecretletError } from '../../core/errors.js';
import type { StatusCode } from '../../core/errors.js';

export interface GrpcStatus {
  code: grpc.status;
  details: string;
  /** Trailers sent with the status (the retry pushback below). */
  metadata?: grpc.Metadata;
}

/**
 * AWS failures the agent answers only after its own retries with backoff and jitter (retry.ts).
 * The upstream driver's gRPC client retries UNAVAILABLE up to 3 times (driver.md §2.2), which would
 * send the same reads to a throttled or failing AWS endpoint three times over; a negative
 * `grpc-retry-pushback-ms` tells a gRPC client not to retry (gRFC A6; grpc-go and grpc-js honour it).
 * The next try is kubelet's, with its own backoff. So are answers with no credentials in them from
 * STS or the Pod Identity agent: at once, the same call gets the same answer. Other UNAVAILABLE
 * answers (the agent draining, a closed pool, credentials evicted meanwhile) keep the client's
 * retry: the next attempt reaches a healthy agent or fetches new credentials.
 */
const RETRIED_HERE: ReadonlySet<string> = new Set(['Throttled', 'AwsUnavailable', 'AwsUnreachable', 'InvalidStsResponse', 'InvalidAgentResponse']);
const RETRY_PUSHBACK = 'grpc-retry-pushback-ms';

function noRetryTrailer(): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(RETRY_PUSHBACK, '-1');
  return metadata;
}

const STATUS_BY_NAME: Readonly<Record<StatusCode, grpc.status>> = Object.freeze({
  CANCELLED: grpc.status.CANCELLED,
  UNKNOWN: grpc.status.UNKNOWN,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  ABORTED: grpc.status.ABORTED,
  OUT_OF_RANGE: grpc.status.OUT_OF_RANGE,
  UNIMPLEMENTED: grpc.status.UNIMPLEMENTED,
  INTERNAL: grpc.status.INTERNAL,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  DATA_LOSS: grpc.status.DATA_LOSS,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
});

export function toGrpcStatus(err: unknown): GrpcStatus {
  if (err instanceof SecretletError) {
    // A code name outside the union can only arrive through a cast or another realm; do not trust it.
    const code = Object.hasOwn(STATUS_BY_NAME, err.code) ? STATUS_BY_NAME[err.code] : grpc.status.UNKNOWN;
    if (code === grpc.status.UNAVAILABLE && RETRIED_HERE.has(err.reason)) return { code, details: err.message, metadata: noRetryTrailer() };
    return { code, details: err.message };
  }
  if (err instanceof Error) return { code: grpc.status.UNKNOWN, details: err.message };
  return { code: grpc.status.UNKNOWN, details: String(err) };
}
