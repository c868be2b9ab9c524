/**
 * What a publish answers when it stops because kubelet has given up on the call. Kubelet no longer
 * reads the answer; its code and message are for the log, the metric and the pod's FailedMount
 * event, so they say whether the deadline passed or the call was cancelled, and which step was not
 * done. Built from codes and names only, never from the request's values.
 */
import { SecretletError } from '../errors.js';
import type { StatusCode } from '../errors.js';
import type { CallerSignal } from '../ports/caller-signal.js';

interface Why {
  code: StatusCode;
  reason: string;
  message: string;
}

const DEADLINE: Why = { code: 'DEADLINE_EXCEEDED', reason: 'DeadlineExceeded', message: "the caller's deadline expired" };
const CANCELLED: Why = { code: 'CANCELLED', reason: 'Cancelled', message: 'the call was cancelled' };

/**
 * The gRPC door's abort reason is already a SecretletError saying which it was (call-signal.ts); an
 * `AbortSignal.timeout` aborts with a `TimeoutError`; anything else is a plain cancel.
 */
function whyGone(reason: unknown): Why {
  if (reason instanceof SecretletError) return reason;
  if (typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError') return DEADLINE;
  return CANCELLED;
}

export function callerGoneError(signal: CallerSignal, pod: string, skipped: string): SecretletError {
  const why = whyGone(signal.reason);
  return new SecretletError({ code: why.code, reason: why.reason, message: `${why.message}; stopped publishing for pod ${pod} before ${skipped}` });
}
