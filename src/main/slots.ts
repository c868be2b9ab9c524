/**
 * At most `size` calls of `run` in flight; the others wait in arrival order. Rotation uses it for
 * its rewrites: a cycle that changed every mount of the node would otherwise queue all their
 * writes in the worker pool at once, past its queue bound, failing its own rewrites and refusing
 * the doors' new mounts with RESOURCE_EXHAUSTED while it lasted.
 */
export class Slots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError(`Slots needs a positive integer size, got ${size}`);
    this.#free = size;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot overtake it.
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#free++;
    }
  }
}
