/**
 * The targets a door call is publishing right now (a kubelet NodePublishVolume or a driver Mount),
 * from its arrival until its reply. A door's publish writes the files, then the pod status, then
 * sets the live entry rotation plans from; a rotation write landing in that gap wrote the *old*
 * plan's files over the new ones, and the entry then took the stamp of that write, so later
 * republishes were skipped as verified and the pod kept the old SPC's files. Rotation leaves a
 * target alone while a publish of it is in flight: the publish writes current values itself. An
 * unpublish of the target waits for it (`settled`).
 */
export class PublishingTargets {
  readonly #inFlight = new Map<string, { count: number; idle: Promise<void>; markIdle: () => void }>();

  has(targetPath: string): boolean {
    return this.#inFlight.has(targetPath);
  }

  async during<T>(targetPath: string, fn: () => Promise<T>): Promise<T> {
    let entry = this.#inFlight.get(targetPath);
    if (entry === undefined) {
      let markIdle = (): void => undefined;
      const idle = new Promise<void>((resolve) => {
        markIdle = resolve;
      });
      entry = { count: 0, idle, markIdle };
      this.#inFlight.set(targetPath, entry);
    }
    entry.count += 1;
    try {
      return await fn();
    } finally {
      entry.count -= 1;
      if (entry.count === 0) {
        this.#inFlight.delete(targetPath);
        entry.markIdle();
      }
    }
  }

  /**
   * Resolves once no publish of `targetPath` is in flight (at once when none is). A kubelet unpublish
   * waits on it: a publish kubelet gave up on (its deadline passed during a slow pod-status write)
   * still records its mount when it finishes, and an unpublish that ran first would leave that record
   * behind for good, read by every rotation cycle, for a pod that is gone.
   */
  settled(targetPath: string): Promise<void> {
    return this.#inFlight.get(targetPath)?.idle ?? Promise.resolve();
  }
}
