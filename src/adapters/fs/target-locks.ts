/**
 * Serialises writes to the same target directory within one writer instance. Kubelet does not
 * overlap operations on one volume, but this agent also rewrites volumes on rotation, and two
 * interleaved atomic writes to one target would delete each other's timestamped directories.
 * Writes to different targets still run in parallel.
 */
import { resolve } from 'node:path';

export class TargetLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(target: string, task: () => Promise<T>): Promise<T> {
    const key = resolve(target);
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    // The tail never rejects, so a failed write does not poison the next one.
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      // Drop the entry once nobody queued behind us, so the map does not grow with every pod ever seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
