/**
 * The targets a door call is publishing right now (a kubelet NodePublishVolume or a driver Mount),
 * from its arrival until its reply. A door's publish writes the files, then the pod status, then
 * sets the live entry rotation plans from; a rotation write landing in that gap wrote the *old*
 * plan's files over the new ones, and the entry then took the stamp of that write, so later
 * republishes were skipped as verified and the pod kept the old SPC's files. Rotation leaves a
 * target alone while a publish of it is in flight: the publish writes current values itself.
 */
export class PublishingTargets {
  readonly #counts = new Map<string, number>();

  has(targetPath: string): boolean {
    return this.#counts.has(targetPath);
  }

  async during<T>(targetPath: string, fn: () => Promise<T>): Promise<T> {
    this.#counts.set(targetPath, (this.#counts.get(targetPath) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const left = (this.#counts.get(targetPath) ?? 1) - 1;
      if (left === 0) this.#counts.delete(targetPath);
      else this.#counts.set(targetPath, left);
    }
  }
}
