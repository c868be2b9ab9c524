/**
 * Ties a server call's lifetime to an AbortSignal, so that a handler stops when kubelet or the
 * driver gives up (deadline, cancel, server force-shutdown): the kubelet door's publish checks it
 * before each step that mounts or writes (NodeVolumeService). grpc-js reports all three as the
 * call's 'cancelled' event; the abort reason is a SecretletError saying which one it most likely was.
 *
 * grpc-js also fires 'cancelled' when the stream closes after a normal reply, so the link must be
 * released once the handler has answered; otherwise a finished call would abort its signal.
 */
import type { Deadline } from '@grpc/grpc-js';
import { SecretletError } from '../../core/errors.js';

/** The part of a grpc-js ServerUnaryCall this module uses (a ServerUnaryCall satisfies it). */
export interface CancellableCall {
  readonly cancelled: boolean;
  getDeadline(): Deadline;
  once(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

export interface CallSignal {
  signal: AbortSignal;
  /** Stops following the call; call when the handler has settled. */
  release(): void;
}

/**
 * When the caller's own deadline passes, its client resets the stream (a cancel) and that reset can
 * reach us before our copy of the deadline fires, by however long the hop took under load. A cancel
 * this close to the deadline is therefore labelled DEADLINE_EXCEEDED. The label only informs logs
 * and metrics: either way the caller has gone and the handler must stop.
 */
export const DEADLINE_SLACK_MS = 250;

export function followCall(call: CancellableCall, now: () => number = Date.now): CallSignal {
  const controller = new AbortController();
  const onCancelled = (): void => controller.abort(cancellationReason(call.getDeadline(), now()));
  if (call.cancelled) onCancelled();
  else call.once('cancelled', onCancelled);
  return { signal: controller.signal, release: () => call.removeListener('cancelled', onCancelled) };
}

function cancellationReason(deadline: Deadline, nowMs: number): SecretletError {
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  if (Number.isFinite(deadlineMs) && nowMs + DEADLINE_SLACK_MS >= deadlineMs) {
    return new SecretletError({ code: 'DEADLINE_EXCEEDED', reason: 'DeadlineExceeded', message: "the caller's deadline expired" });
  }
  return new SecretletError({ code: 'CANCELLED', reason: 'Cancelled', message: 'the call was cancelled' });
}
