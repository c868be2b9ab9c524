/**
 * Serialises work on the same target directory. Kubelet does not overlap operations on one volume,
 * but this agent also rewrites volumes on rotation, and two interleaved atomic writes to one target
 * would delete each other's timestamped directories; a rewrite interleaved with NodeUnpublishVolume's
 * cleanup would put secret files into kubelet's directory on the node's disk between unmount and
 * rmdir. Work on different targets still runs in parallel.
 *
 * Each writer keeps its own instance for its own writes; the agent shares one more between the
 * kubelet door's writer (`LockedTargetWriter`, locked-target-writer.ts) and the target cleanup
 * (LocalTargetDirectory).
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
