/**
 * Lets callers through one per event-loop turn, in arrival order.
 *
 * The doors stamp a mount's arrival and then wait here before its CPU work (parse, validate,
 * fetch planning) starts. A plain `await setImmediate` would release every call of a burst in the
 * same check phase: 737 mounts' work back to back, one ~150 ms stall of the event loop (timers,
 * health probes and AWS responses wait behind it). Releasing one caller per turn keeps each stall
 * to one mount's synchronous work, while the arrivals are still all stamped first.
 */
export class Turnstile {
  readonly #waiting: Array<() => void> = [];
  readonly #perTurn: number;
  #scheduled = false;

  /** `perTurn`: how many callers one turn releases (their work then runs back to back). */
  constructor(perTurn = 1) {
    this.#perTurn = perTurn;
  }

  /** Resolves on a later event-loop turn than the call, after everyone who called before. */
  pass(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#schedule();
    });
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      for (const release of this.#waiting.splice(0, this.#perTurn)) release();
      if (this.#waiting.length > 0) this.#schedule();
    });
  }
}
