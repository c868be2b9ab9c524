import type { RenderedFile } from '../model.js';
import type { CallerSignal } from './caller-signal.js';

export interface WriteOutcome {
  /** False when every file already had these exact bytes and nothing had to be removed. */
  changed: boolean;
  /** Set when a condition (WriteConditions) stopped the write before it touched the target. */
  skipped?: 'abandoned' | 'target-gone';
  /**
   * The target directory's stamp right after this write, taken under the target's lock (adapters/fs
   * target-stamp.ts): what the agent records as "shows what it wrote". Taken later, it could be the
   * stamp of a concurrent write of other files, and the agent would trust files it never wrote.
   */
  stamp?: string;
}

/**
 * What must still hold when a write starts, checked as late as the writer can: a write may wait
 * (for the target's lock, or in the worker pool's queue) long after its caller checked.
 */
export interface WriteConditions {
  /** Aborted once the caller gave up (its deadline passed): a write not started by then never starts. */
  signal?: CallerSignal;
  /**
   * The target directory the caller last saw, as its stamp (device:inode:…, adapters/fs
   * target-stamp.ts): a write that starts once the path shows another directory (the tmpfs was
   * unmounted, so the path is the node's disk) writes nothing.
   */
  directory?: string;
}

/**
 * Puts a mount's whole payload into a target directory so that a reader never sees a torn,
 * empty or mixed-version set of files. Implemented by the kubelet-style atomic writer
 * (`..data` symlink swap) and by the provider-style writer (temp file, fsync, rename).
 */
export interface PayloadWriter {
  write(targetDir: string, files: readonly RenderedFile[], conditions?: WriteConditions): Promise<WriteOutcome>;
}
