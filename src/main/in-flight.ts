/**
 * Tracks in-flight door calls so a drain can stop taking new work and wait for what is running.
 */
import { SecretletError } from '../core/errors.js';

export class InFlight {
  private count = 0;
  private accepting = true;
  private waiters: Array<() => void> = [];

  get size(): number {
    return this.count;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.accepting) {
      throw new SecretletError({ code: 'UNAVAILABLE', reason: 'Draining', message: 'secretlet is shutting down; kubelet will retry on the next agent' });
    }
    this.count += 1;
    try {
      return await fn();
    } finally {
      this.count -= 1;
      if (this.count === 0) for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Stops accepting and resolves true when idle, or false when the deadline passed first. */
  async drain(deadlineMs: number): Promise<boolean> {
    this.accepting = false;
    if (this.count === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), deadlineMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
