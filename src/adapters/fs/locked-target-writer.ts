/**
 * The kubelet door's writer wrapped in the per-target lock that the target cleanup takes too, and
 * the guarded write a background writer (rotation) needs: a cleanup and a write of one target never
 * overlap, and a rotation write never lands in a target that is no longer mounted.
 */
import type { RenderedFile } from '../../core/model.js';
import type { PayloadWriter, WriteOutcome } from '../../core/ports/payload-writer.js';
import type { TargetLocks } from './target-locks.js';

/** What a write that re-checks its premises under the target's lock did. */
export type GuardedWriteResult =
  | { status: 'written'; outcome: WriteOutcome }
  /** The target is no longer a mount point (unpublished, or half torn down): nothing was touched. */
  | { status: 'target-gone' }
  /** The caller's own check said no: nothing was touched. */
  | { status: 'unwanted' };

/** A writer that can hold a write to the checks a background writer (rotation) needs, under its lock. */
export interface GuardedPayloadWriter extends PayloadWriter {
  /**
   * Under the target's lock: writes only if the target is still a mount point and then
   * `stillWanted()` (called last, synchronously, right before the write starts) is true.
   */
  writeIfWanted(targetDir: string, files: readonly RenderedFile[], stillWanted: () => boolean): Promise<GuardedWriteResult>;
}

export function isGuardedWriter(writer: PayloadWriter): writer is GuardedPayloadWriter {
  return typeof (writer as Partial<GuardedPayloadWriter>).writeIfWanted === 'function';
}

export interface LockedTargetWriterOptions {
  /** Does the filesystem work (the door's writer: direct or pooled). */
  writer: PayloadWriter;
  /** Shared with the target cleanup, so a cleanup and a write of one target never overlap. */
  locks: TargetLocks;
  /** The kubelet door's mounter: a rotation write lands only in a target that is still mounted. */
  isMountPoint: (target: string) => Promise<boolean>;
}

/**
 * The kubelet door's writer as the agent wires it: every write runs under the lock the target
 * cleanup takes too. A door write needs nothing more (kubelet never overlaps a publish and an
 * unpublish of one volume); a rotation write (`writeIfWanted`) can run after the cleanup of its
 * target, so it first checks the target is still a mount point: after an unmount it never writes,
 * so it never puts files on the node's disk nor recreates a removed target.
 */
export class LockedTargetWriter implements GuardedPayloadWriter {
  readonly #o: LockedTargetWriterOptions;

  constructor(options: LockedTargetWriterOptions) {
    this.#o = options;
  }

  write(targetDir: string, files: readonly RenderedFile[]): Promise<WriteOutcome> {
    return this.#o.locks.run(targetDir, () => this.#o.writer.write(targetDir, files));
  }

  writeIfWanted(targetDir: string, files: readonly RenderedFile[], stillWanted: () => boolean): Promise<GuardedWriteResult> {
    return this.#o.locks.run(targetDir, async (): Promise<GuardedWriteResult> => {
      if (!(await this.#o.isMountPoint(targetDir))) return { status: 'target-gone' };
      // Last, and with no await before the write starts: nothing can change the caller's state in between.
      if (!stillWanted()) return { status: 'unwanted' };
      return { status: 'written', outcome: await this.#o.writer.write(targetDir, files) };
    });
  }
}
