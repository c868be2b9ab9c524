/**
 * Whether a payload can live in a volume's tmpfs and still be rotated. The kubelet atomic writer
 * builds the new version beside the live one before it swaps `..data`, so a rewrite needs room for
 * two copies; a payload that fits once but not twice would mount and then fail every rotation with
 * a bare ENOSPC (masked, so the pod silently keeps old secrets). It is refused up front instead,
 * with the size and the flag to change.
 */
import { SecretletError } from '../errors.js';
import type { RenderedFile } from '../model.js';

/** tmpfs charges whole pages per file; 4 KiB on the architectures nodes run (x86-64, most arm64). */
const PAGE_BYTES = 4096;

/** Bytes of tmpfs pages one copy of the payload takes. */
export function tmpfsBytesOf(files: readonly RenderedFile[]): number {
  return files.reduce((sum, f) => sum + Math.ceil(f.contents.byteLength / PAGE_BYTES) * PAGE_BYTES, 0);
}

/** Throws FAILED_PRECONDITION PayloadTooLargeForTmpfs when two copies exceed `tmpfsSizeBytes` (0: no limit). */
export function checkTmpfsRoom(files: readonly RenderedFile[], tmpfsSizeBytes: number): void {
  if (tmpfsSizeBytes <= 0) return;
  const oneCopy = tmpfsBytesOf(files);
  if (oneCopy * 2 <= tmpfsSizeBytes) return;
  const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  throw new SecretletError({
    code: 'FAILED_PRECONDITION',
    reason: 'PayloadTooLargeForTmpfs',
    field: 'tmpfsSize',
    message: `the payload takes ${mib(oneCopy)} of tmpfs (${files.length} files, in 4 KiB pages), and a rotation writes the new copy beside the live one: 2 × ${mib(oneCopy)} exceeds the volume's tmpfs size of ${mib(tmpfsSizeBytes)}; raise --tmpfs-size, or mount fewer or smaller objects`,
  });
}
