/**
 * Sends an API request again when the server asked for it, as client-go's REST client does: an
 * answer of 429 (API Priority and Fairness throttling) or 5xx that carries `Retry-After: <seconds>`
 * is retried after that many seconds, up to ten times. Without it, one throttled
 * SecretProviderClassPodStatus create or ServiceAccount GET during a pod burst failed the mount,
 * and kubelet's backoff then kept the pod in ContainerCreating far longer than the server asked.
 *
 * A 5xx without `Retry-After` is not retried (client-go does not either): the server did not say
 * the request is safe to send again.
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { PromiseHttpLibrary, RequestContext, ResponseContext } from '@kubernetes/client-node';

/** client-go's default for a REST client. */
export const MAX_RETRY_AFTER_RETRIES = 10;
/**
 * Longer waits are cut to this: the caller (a mount, under kubelet's deadline) is better served by
 * an error it can report than by a long sleep. A request carrying its caller's signal stops waiting
 * when the caller gives up.
 */
export const MAX_RETRY_AFTER_SECONDS = 10;

export interface RetryAfterOptions {
  maxRetries?: number;
  /** Waits this long, or rejects once `signal` aborts; tests pass one that does not sleep. */
  delay?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> => wait(ms, undefined, { ref: false, ...(signal === undefined ? {} : { signal }) });

/** Seconds the server asked to wait, when the answer is one client-go retries; undefined otherwise. */
export function retryAfterSeconds(response: ResponseContext): number | undefined {
  const status = response.httpStatusCode;
  if (status !== 429 && status < 500) return undefined;
  const header = response.headers['retry-after'];
  // Only the delta-seconds form, as client-go: an HTTP date is not retried.
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Math.min(Number(header.trim()), MAX_RETRY_AFTER_SECONDS);
}

export class RetryAfterHttpLibrary implements PromiseHttpLibrary {
  readonly #inner: PromiseHttpLibrary;
  readonly #maxRetries: number;
  readonly #delay: (ms: number, signal: AbortSignal | undefined) => Promise<void>;

  constructor(inner: PromiseHttpLibrary, options: RetryAfterOptions = {}) {
    this.#inner = inner;
    this.#maxRetries = options.maxRetries ?? MAX_RETRY_AFTER_RETRIES;
    this.#delay = options.delay ?? sleep;
  }

  async send(request: RequestContext): Promise<ResponseContext> {
    for (let retries = 0; ; retries += 1) {
      const response = await this.#inner.send(request);
      const seconds = retries < this.#maxRetries ? retryAfterSeconds(response) : undefined;
      if (seconds === undefined) return response;
      // Read the refused answer to its end, so its connection or stream is free for the retry.
      await response.body.binary().catch(() => undefined);
      // A caller that gave up (a mount past kubelet's deadline, see callerSignalOptions) stops waiting.
      await this.#delay(seconds * 1000, request.getSignal());
    }
  }
}
