import type { RenderedFile } from '../model.js';

export interface WriteOutcome {
  /** False when every file already had these exact bytes and nothing had to be removed. */
  changed: boolean;
}

/**
 * Puts a mount's whole payload into a target directory so that a reader never sees a torn,
 * empty or mixed-version set of files. Implemented by the kubelet-style atomic writer
 * (`..data` symlink swap) and by the provider-style writer (temp file, fsync, rename).
 */
export interface PayloadWriter {
  write(targetDir: string, files: readonly RenderedFile[]): Promise<WriteOutcome>;
}
