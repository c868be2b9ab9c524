/**
 * The target directory of a CSI volume around the mount: created before publishing (kubelet ≥1.20
 * no longer creates it), torn down on unpublish exactly as the driver does (driver.md §1.6 steps
 * 3–4), and read back for Secret sync (the driver's `GetMountedFiles`, driver.md §2.5).
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { lstat, readFile, readdir, readlink, rmdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretletError } from '../../core/errors.js';
import { DATA_LINK, DATA_TMP_LINK, isTimestampDirName, readDataLink } from './atomic-layout.js';
import { errnoCode, isNotFound, removeAll } from './durable-io.js';
import type { PublishUndo, TargetDirectory, VolumeMounter } from './ports.js';
import type { TargetLocks } from './target-locks.js';

/**
 * `mkdir -p` with mode 0750 (the umask still applies, as for the driver). Synchronous: a few
 * metadata calls in kubelet's local pods directory, where the thread-pool round trip cost ~0.14 ms of
 * main-thread time per first mount in a 737-pod burst.
 */
export function ensureTargetDir(path: string): Promise<boolean> {
  // Kubelet's target is a directory it names; a symlink there would have the tmpfs, and the secrets,
  // mounted wherever it points, out of reach of the unpublish (which does not follow links).
  if (isSymlink(path)) {
    return Promise.reject(
      new SecretletError({ code: 'INVALID_ARGUMENT', reason: 'InvalidTargetPath', field: 'target_path', message: `target_path ${path} is a symbolic link; secretlet mounts only onto a directory` }),
    );
  }
  try {
    // mkdirSync names the first directory it made; undefined when the target already existed.
    return Promise.resolve(mkdirSync(path, { recursive: true, mode: 0o750 }) !== undefined);
  } catch (err) {
    return Promise.reject(
      new SecretletError({
        code: 'INTERNAL',
        reason: 'FailedToEnsureMountPoint',
        message: `failed to create target path ${path}, err: ${errnoCode(err) ?? String(err)}`,
        cause: err,
      }),
    );
  }
}

/** One lstat in kubelet's local pods directory: synchronous, as ensureTargetDir's calls (see there). */
function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export interface CleanupTargetOptions {
  /** Told about each entry that could not be removed; upstream logs these and carries on. */
  onEntryError?: (path: string, err: unknown) => void;
}

/** A volume mounted twice over would otherwise leave rmdir failing with EBUSY. */
const MAX_STACKED_UNMOUNTS = 8;

/**
 * NodeUnpublishVolume steps 3–4: remove every entry (dot-names too), unmount while the target is a
 * mount point, then rmdir. A missing target is success, so the call is safe to repeat. An unreadable
 * target (a dead mount) is still unmounted, as Go's Glob would have ignored the read error.
 */
export async function cleanupTarget(target: string, mounter: VolumeMounter, options: CleanupTargetOptions = {}): Promise<void> {
  // Kubelet's target is a directory it made. A symlink there is not followed: emptying the
  // directory it points at would delete files that were never this volume's.
  if (isSymlink(target)) {
    await unlink(target).catch((err: unknown) => {
      if (!isNotFound(err)) throw cleanupFailure(target, err);
    });
    return;
  }
  let entries: string[] = [];
  // A regular file where the target should be (a stray write, a broken node): upstream's Glob finds
  // nothing in it and CleanupMountPoint removes it, so the unpublish succeeds.
  let isFile = false;
  try {
    entries = await readdir(target);
  } catch (err) {
    if (isNotFound(err)) return;
    isFile = errnoCode(err) === 'ENOTDIR';
  }
  for (const entry of entries) {
    try {
      await removeAll(join(target, entry));
    } catch (err) {
      options.onEntryError?.(join(target, entry), err);
    }
  }
  try {
    for (let i = 0; i < MAX_STACKED_UNMOUNTS && (await mounter.isMountPoint(target)); i++) {
      await mounter.unmount(target);
    }
    if (isFile) await unlink(target);
    else await rmdir(target);
  } catch (err) {
    if (isNotFound(err)) return;
    if (err instanceof SecretletError) throw err;
    throw cleanupFailure(target, err);
  }
}

function cleanupFailure(target: string, err: unknown): SecretletError {
  return new SecretletError({
    code: 'INTERNAL',
    reason: 'FailedToCleanupTarget',
    message: `failed to clean up target path ${target}: ${errnoCode(err) ?? String(err)}`,
    cause: err,
  });
}

/**
 * A failed first mount's undo (PublishUndo): what the kubelet atomic writer made goes (`..data`,
 * `..data_tmp`, timestamped payload dirs, top-level links into `..data`), then the tmpfs, then the
 * directory if this call made it and it is empty. Nothing else is removed: upstream only unmounts,
 * and a target may hold files that were there before (or be a symlink, which is not followed).
 */
export async function undoPublish(target: string, mounter: VolumeMounter, undo: PublishUndo): Promise<void> {
  try {
    if (undo.unmount) {
      if (!isSymlink(target)) await removeWriterEntries(target);
      if (await mounter.isMountPoint(target)) await mounter.unmount(target);
    }
    if (undo.removeDir) {
      await rmdir(target).catch((err: unknown) => {
        // Not empty (someone else's files), gone, or not a directory: not this call's to remove.
        if (!['ENOENT', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR'].includes(errnoCode(err) ?? '')) throw err;
      });
    }
  } catch (err) {
    if (err instanceof SecretletError) throw err;
    throw cleanupFailure(target, err);
  }
}

async function removeWriterEntries(target: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(target);
  } catch (err) {
    if (isNotFound(err) || errnoCode(err) === 'ENOTDIR') return;
    throw err;
  }
  for (const name of names) {
    const path = join(target, name);
    if (name === DATA_LINK || name === DATA_TMP_LINK || isTimestampDirName(name)) {
      await removeAll(path);
      continue;
    }
    const link = await readlink(path).catch(() => undefined);
    if (link !== undefined && link.startsWith(`${DATA_LINK}/`)) await unlink(path);
  }
}

/**
 * Whether `target` holds a payload a pod may be reading:
 * - one the kubelet atomic writer finished: it swaps `..data` in last, so the link exists exactly
 *   when one whole payload landed (a `..data` that is not a symlink, EINVAL, was not made by it);
 * - or files another writer left as plain files: the upstream driver with ASCP writing the files
 *   itself, whose mounts the agent takes over when it replaces them (README, migration). Their
 *   first failed republish must keep them, as upstream does; rolling the mount back would empty the
 *   running container's view of it.
 * What a first write of this agent's leaves when it is cut short (a `..<timestamp>` dir,
 * `..data_tmp`, top-level symlinks into a `..data` that never came) is no payload. Any failure but
 * ENOTDIR is the caller's to judge (the kubelet door then assumes none).
 */
export async function hasPayload(target: string): Promise<boolean> {
  try {
    if ((await readDataLink(target)) !== undefined) return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOTDIR') return false;
    if (errnoCode(err) !== 'EINVAL') throw err;
  }
  const entries = await readdir(target, { withFileTypes: true }).catch((err: unknown) => {
    if (isNotFound(err)) return [];
    throw err;
  });
  return entries.some((e) => !e.name.startsWith('..') && (e.isFile() || e.isDirectory()));
}

/** Reads that raced with this many payload swaps in a row give up rather than loop forever. */
const MAX_READ_ATTEMPTS = 10;

/**
 * The files of a mounted volume, keyed by path relative to the target (`foo`, `dir/bar`): names
 * starting with `..` are skipped, top-level symlinks are followed, directories walked.
 *
 * Unlike upstream, which reads file by file and can mix two versions when a rotation swaps `..data`
 * mid-read, a read during which `..data` changed is retried, so Secret sync sees one version. If
 * every attempt raced a swap it fails with ABORTED (retry later) rather than return a mix.
 */
export async function readMountedFiles(target: string): Promise<Map<string, Uint8Array>> {
  for (let attempt = 1; attempt <= MAX_READ_ATTEMPTS; attempt++) {
    const before = await readDataLink(target);
    let files: Map<string, Uint8Array>;
    try {
      files = await readTopLevel(target);
    } catch (err) {
      // Reading a version that a swap just removed fails with ENOENT: that is a race, not a fault.
      if ((await readDataLink(target)) !== before) continue;
      throw new SecretletError({
        code: 'INTERNAL',
        reason: 'FailedToReadMountedFiles',
        message: `failed to read mounted files in ${target}: ${errnoCode(err) ?? String(err)}`,
        cause: err,
      });
    }
    if ((await readDataLink(target)) === before) return files;
  }
  throw new SecretletError({
    code: 'ABORTED',
    reason: 'MountedFilesChanging',
    message: `mounted files in ${target} changed during each of ${MAX_READ_ATTEMPTS} reads`,
  });
}

async function readTopLevel(target: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const name of (await readdir(target)).sort()) {
    if (name.startsWith('..')) continue;
    const path = join(target, name);
    const stats = await stat(path); // follows the top-level symlink into ..data
    if (stats.isDirectory()) await walk(path, name, files);
    else if (stats.isFile()) files.set(name, await readFile(path));
  }
  return files;
}

/** Below the top level, symlinks to files are read but symlinked directories are not entered. */
async function walk(dir: string, prefix: string, files: Map<string, Uint8Array>): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const key = `${prefix}/${name}`;
    const stats = await lstat(path);
    if (stats.isDirectory()) await walk(path, key, files);
    else if (stats.isFile() || (stats.isSymbolicLink() && (await stat(path)).isFile())) files.set(key, await readFile(path));
  }
}

export interface LocalTargetDirectoryOptions {
  mounter: VolumeMounter;
  onEntryError?: (path: string, err: unknown) => void;
  /**
   * The per-target lock the kubelet door's writer takes too (LockedTargetWriter): a cleanup then
   * never overlaps a write of its target, e.g. a rotation rewrite landing between unmount and rmdir,
   * which would leave secret files on the node's disk and fail the rmdir with ENOTEMPTY.
   */
  locks?: TargetLocks;
}

/** The TargetDirectory port over the local filesystem and a VolumeMounter. */
export class LocalTargetDirectory implements TargetDirectory {
  private readonly options: LocalTargetDirectoryOptions;

  constructor(options: LocalTargetDirectoryOptions) {
    this.options = options;
  }

  ensure(target: string): Promise<boolean> {
    return ensureTargetDir(target);
  }

  undoPublish(target: string, undo: PublishUndo): Promise<void> {
    const { mounter, locks } = this.options;
    const run = (): Promise<void> => undoPublish(target, mounter, undo);
    return locks === undefined ? run() : locks.run(target, run);
  }

  hasPayload(target: string): Promise<boolean> {
    return hasPayload(target);
  }

  cleanup(target: string): Promise<void> {
    const { mounter, onEntryError, locks } = this.options;
    const run = (): Promise<void> => cleanupTarget(target, mounter, onEntryError === undefined ? {} : { onEntryError });
    return locks === undefined ? run() : locks.run(target, run);
  }
}
