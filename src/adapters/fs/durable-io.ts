/**
 * The few filesystem primitives both payload writers are built from, with durability spelled out:
 * a file is written through a fresh descriptor (O_EXCL, so a stray file is never overwritten in
 * place), chmod-ed with only the permission bits, fsync-ed, and only then made visible by a rename
 * or symlink swap. Directory fsyncs persist those renames. A crash therefore leaves either the old
 * payload or the new one visible, never a half-written file.
 *
 * Each primitive exists twice, side by side so the contracts can be compared line by line: with
 * node:fs/promises (for disk-backed targets, where an fsync may take milliseconds and must not
 * block the event loop) and with the *Sync calls (for memory-backed targets, see fs-ops.ts).
 *
 * Errors from node:fs become SecretletError INTERNAL naming the action and the path (never the bytes).
 */
import { closeSync, fchmodSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { SecretletError } from '../../core/errors.js';

/** Only the rwx bits take effect, as Go's `os.Chmod` does for the driver and ASCP (setuid etc. ignored). */
export const PERMISSION_BITS = 0o777;

/** Wraps a node:fs failure. `errno` codes (ENOSPC, EACCES…) are kept in the message for operators. */
export function fsFailure(err: unknown, action: string, path: string): SecretletError {
  if (err instanceof SecretletError) return err;
  const code = errnoCode(err);
  return new SecretletError({
    code: 'INTERNAL',
    reason: 'PayloadWriteFailed',
    message: `failed to ${action} ${path}${code === undefined ? '' : `: ${code}`}`,
    cause: err,
  });
}

export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return errnoCode(err) === 'ENOENT';
}

/** Creates `path` (must not exist), sets `mode & 0777` regardless of umask, writes, fsyncs, closes. */
export async function writeNewFileDurably(path: string, contents: Uint8Array, mode: number): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.chmod(mode & PERMISSION_BITS);
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** writeNewFileDurably with the same contract, one blocking syscall after another. */
export function writeNewFileDurablySync(path: string, contents: Uint8Array, mode: number): void {
  writeNewFileSync(path, contents, mode, true);
}

/**
 * writeNewFileDurablySync without the fsync, for memory-backed targets only (tmpfs, ramfs): there
 * fsync(2) is a no-op in the kernel (their contents never reach a disk and vanish with the node),
 * while the calls still cost ~25 % of a 10-file payload's syscall time. A write(2) that returned is
 * visible to every reader and survives the agent's crash, which is all a memory target can promise.
 */
export function writeNewFileInMemorySync(path: string, contents: Uint8Array, mode: number): void {
  writeNewFileSync(path, contents, mode, false);
}

function writeNewFileSync(path: string, contents: Uint8Array, mode: number, fsync: boolean): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    fchmodSync(fd, mode & PERMISSION_BITS);
    // write(2) may write less than asked (a signal, a nearly full filesystem): loop until all is out.
    for (let offset = 0; offset < contents.byteLength; ) {
      const written = writeSync(fd, contents, offset, contents.byteLength - offset);
      // A regular file never reports 0 bytes for a non-empty write (it fails with ENOSPC instead);
      // should one ever do, fail rather than spin.
      if (written <= 0) throw Object.assign(new Error(`short write to ${path}`), { code: 'EIO' });
      offset += written;
    }
    if (fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Persists the directory entries of `dir` (new names, renames, symlink swaps). */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function fsyncDirectorySync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `rm -rf`, where a missing path is success. */
export async function removeAll(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

export function removeAllSync(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
