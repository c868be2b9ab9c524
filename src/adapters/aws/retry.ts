/**
 * Retries of AWS calls. The SDK clients run with `maxAttempts: 1` so that this is the only retry
 * layer: one place decides the attempts, the backoff (exponential, full jitter, on the injected clock
 * and random source) and reports each attempt to the observer.
 *
 * Timeouts are retried like any transient error (the Go SDK's retryer does too), but a timed-out
 * attempt is slow: each one may last a whole request timeout, so `maxAttempts` alone no longer
 * bounds the time a call takes. A timeout is therefore retried only if another attempt as long as
 * the last one still ends within `timeoutBudgetMs` of the call's start.
 *
 * A request refused for a skewed clock (InvalidSignatureException "Signature expired", …) is retried
 * once, at once, when the SDK says it corrected its clock offset from the answer
 * (`$metadata.clockSkewCorrected`): the SDK's own retry strategy does the same, and without it the
 * first call of every client on a node whose clock is off would fail for good.
 */
import type { Clock } from '../../core/ports/clock.js';
import type { SecretletError } from '../../core/errors.js';
import { isRetryable, isThrottle, isTimeout, mapAwsError } from './error-mapping.js';
import type { AwsErrorContext } from './error-mapping.js';
import type { AwsAction, AwsCallObserver } from './observer.js';

export interface RetryPolicy {
  clock: Clock;
  /** Returns a number in [0, 1). */
  random: () => number;
  observer: AwsCallObserver;
  /** Total attempts including the first. @default 5 */
  maxAttempts: number;
  /** @default 50 */
  baseDelayMs: number;
  /** @default 5000 */
  maxDelayMs: number;
  /**
   * Time from a call's first attempt within which a retry after a timeout must end, judging it as
   * long as the attempt that timed out. 25 s allows two 10 s SDK request timeouts, or four 5 s Pod
   * Identity agent timeouts, and keeps a mount's at most four sequential calls (credentials, then
   * the fetch, in the primary and then the failover region) under kubelet's ~2 min
   * NodePublishVolume deadline. @default 25_000
   */
  timeoutBudgetMs?: number;
}

const DEFAULT_TIMEOUT_BUDGET_MS = 25_000;

export interface CallOptions {
  action: AwsAction;
  region: string;
  objectId?: string;
  batchSize?: number;
  /**
   * Return false to stop retrying this error (e.g. a throttled batch call that will spill over
   * instead). Asked only when the error would otherwise be retried (retryable, attempts and time
   * left), so it may reserve what the retry needs, such as a budget token.
   */
  shouldRetry?: (err: SecretletError) => boolean;
}

/** Full-jitter delay for retry number `attempt` (1-based). */
export function backoffDelay(policy: Pick<RetryPolicy, 'random' | 'baseDelayMs' | 'maxDelayMs'>, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(policy.random() * ceiling);
}

/**
 * Runs `call`, mapping failures to SecretletErrors and retrying retryable ones. Throws the last mapped
 * error when attempts run out or the error is not retryable.
 */
export async function callWithRetries<T>(policy: RetryPolicy, options: CallOptions, call: () => Promise<T>): Promise<T> {
  const ctx: AwsErrorContext = {
    action: options.action,
    region: options.region,
    ...(options.objectId === undefined ? {} : { objectId: options.objectId }),
  };
  const firstStarted = policy.clock.now();
  let skewRetried = false;
  for (let attempt = 1; ; attempt++) {
    const started = policy.clock.now();
    try {
      const out = await call();
      policy.observer.onCall({
        action: options.action,
        region: options.region,
        outcome: 'ok',
        durationMs: policy.clock.now() - started,
        ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      });
      return out;
    } catch (raw) {
      const err = mapAwsError(raw, ctx);
      policy.observer.onCall({
        action: options.action,
        region: options.region,
        outcome: isThrottle(err) ? 'throttled' : 'error',
        durationMs: policy.clock.now() - started,
        ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      });
      if (!skewRetried && clockSkewCorrected(raw)) {
        skewRetried = true;
        continue;
      }
      if (!isRetryable(err) || attempt >= policy.maxAttempts) throw err;
      const delay = backoffDelay(policy, attempt);
      if (isTimeout(err)) {
        const ended = policy.clock.now();
        const nextEnds = ended - firstStarted + delay + (ended - started);
        if (nextEnds > (policy.timeoutBudgetMs ?? DEFAULT_TIMEOUT_BUDGET_MS)) throw err;
      }
      if (options.shouldRetry && !options.shouldRetry(err)) throw err;
      await policy.clock.sleep(delay);
    }
  }
}

/** Whether the SDK corrected its clock offset from this failed call's answer (AwsSdkSigV4Signer). */
function clockSkewCorrected(raw: unknown): boolean {
  return (raw as { $metadata?: { clockSkewCorrected?: unknown } } | null)?.$metadata?.clockSkewCorrected === true;
}
