/**
 * The wait before a failed watch is opened again, as client-go's reflectors pace theirs: 800 ms,
 * doubling up to 30 s, each wait jittered up to twice its step so that the nodes of a cluster do not
 * come back in step, and back to 800 ms once two minutes passed without a failure.
 *
 * Why: a fixed 1 s retry had every node send a request a second, in lockstep, at an API server that
 * was already down, and after a `410 Gone` each of them is a cluster-wide LIST.
 */

export interface WatchBackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** A failure this long after the previous one starts again from `initialMs`. */
  resetAfterMs?: number;
  /** In [0, 1); tests pass a fixed one. */
  random?: () => number;
  now?: () => number;
}

export class WatchBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #resetAfterMs: number;
  readonly #random: () => number;
  readonly #now: () => number;
  #stepMs: number;
  #lastFailureAt: number | undefined;

  constructor(options: WatchBackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 800;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#resetAfterMs = options.resetAfterMs ?? 120_000;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#stepMs = this.#initialMs;
  }

  /** The wait before the next attempt, after a failure now. */
  next(): number {
    const now = this.#now();
    if (this.#lastFailureAt !== undefined && now - this.#lastFailureAt >= this.#resetAfterMs) this.#stepMs = this.#initialMs;
    this.#lastFailureAt = now;
    const step = this.#stepMs;
    this.#stepMs = Math.min(step * 2, this.#maxMs);
    return Math.min(Math.round(step * (1 + this.#random())), this.#maxMs);
  }
}
