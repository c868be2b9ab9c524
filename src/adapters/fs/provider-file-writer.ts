/**
 * The provider door's writer for "provider writes" mode (ASCP's default, aws-provider.md §13.2):
 * flat files straight in the mount dir, each replaced by rename(2) so a reader never sees a torn
 * file. Unlike ASCP, which renames each file as soon as it is fetched (a failure half-way leaves
 * some files new and some old), this writer is all-or-nothing: every file is first written to a
 * temp file and fsync-ed, and only when all of them succeeded is any of them renamed into place.
 *
 * Known limit: a rename failing after an earlier one succeeded (a disk-level error; a directory
 * in the way is caught before any rename) leaves the files renamed so far; the rest stay old.
 *
 * Every write picks its filesystem calls for the target (memory-backed.ts): inline on tmpfs, where
 * the driver mounts every target, the thread pool on disk. The logic below is the same for both.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { SecretletError } from '../../core/errors.js';
import type { RenderedFile } from '../../core/model.js';
import type { PayloadWriter, WriteConditions, WriteOutcome } from '../../core/ports/payload-writer.js';
import { guardedWrite } from './write-conditions.js';
import { PERMISSION_BITS, fsFailure, isNotFound } from './durable-io.js';
import type { FsOps } from './fs-ops.js';
import type { FsOpsChoice } from './memory-backed.js';
import { TargetFsOps, checkFsOpsChoice } from './memory-backed.js';
import { entryPath, normalizedTarget, validateFlatFileName } from './payload-paths.js';
import { TargetLocks } from './target-locks.js';

/**
 * Names of the files this writer put in a target, as a JSON array (names may hold any byte but `/`). Only written with `removeStale`:
 * a stale file can only be told apart from files someone else put there (another writer, an older
 * version, the driver's own entries) by remembering what we wrote, and memory does not survive an
 * agent restart, so the list lives in the target itself (a tmpfs: it dies with the volume).
 */
export const MANIFEST_NAME = '.secretlet-files';
/** Temp files start with `..` so readers of mounted files (and secret sync) skip them. */
const TEMP_PREFIX = '..secretlet-tmp.';

export interface ProviderFileWriterOptions {
  /**
   * Remove files of objects no longer in the payload. ASCP never deletes them.
   * @default false
   */
  removeStale?: boolean;
  /**
   * Which filesystem calls to use: by the target's filesystem ('auto': inline on tmpfs/ramfs,
   * async elsewhere), or forced. fs-ops.ts explains the difference.
   * @default 'auto'
   */
  fsOps?: FsOpsChoice;
}

interface PendingFile {
  name: string;
  temp: string;
}

export class ProviderFileWriter implements PayloadWriter {
  private readonly removeStale: boolean;
  private readonly fs: TargetFsOps;
  private readonly locks = new TargetLocks();

  constructor(options: ProviderFileWriterOptions = {}) {
    this.removeStale = options.removeStale ?? false;
    this.fs = new TargetFsOps(checkFsOpsChoice(options.fsOps ?? 'auto', 'options.fsOps'));
  }

  async write(targetDir: string, files: readonly RenderedFile[], conditions?: WriteConditions): Promise<WriteOutcome> {
    validateNames(files);
    const target = normalizedTarget(targetDir);
    return this.locks.run(targetDir, () => guardedWrite(targetDir, conditions, () => this.fs.run(targetDir, (ops) => this.writeValidated(target, files, ops))));
  }

  private async writeValidated(target: string, files: readonly RenderedFile[], ops: FsOps): Promise<WriteOutcome> {
    const present = await removeLeftoverTemps(target, ops);
    const pending: PendingFile[] = [];
    try {
      for (const file of files) {
        if (present.has(file.path) && (await isUnchanged(target, file, ops))) continue;
        // Not derived from the file name: a 255-byte name plus a prefix would exceed NAME_MAX.
        const temp = entryPath(target, tempName());
        pending.push({ name: file.path, temp });
        await ops.writeNewFileDurably(temp, file.contents, file.mode);
      }
    } catch (err) {
      await Promise.all(pending.map((p) => unlinkQuietly(p.temp, ops)));
      throw fsFailure(err, 'write payload into', target);
    }

    // All bytes are durable in temp files: now, and only now, the new contents become visible.
    for (const [i, p] of pending.entries()) {
      try {
        await ops.rename(p.temp, entryPath(target, p.name));
      } catch (err) {
        await Promise.all(pending.slice(i).map((q) => unlinkQuietly(q.temp, ops)));
        throw fsFailure(err, 'rename into place', entryPath(target, p.name));
      }
    }
    let removed = false;
    if (this.removeStale) removed = await reconcileManifest(target, files, present, ops);
    if (pending.length > 0 || removed) await step('sync', target, () => ops.fsyncDirectory(target));
    return { changed: pending.length > 0 || removed };
  }
}

function validateNames(files: readonly RenderedFile[]): void {
  const seen = new Set<string>();
  files.forEach((file, i) => {
    const field = `files[${i}].path`;
    validateFlatFileName(file.path, field);
    if (file.path === MANIFEST_NAME || file.path.startsWith(TEMP_PREFIX) || seen.has(file.path)) {
      throw new SecretletError({
        code: 'INVALID_ARGUMENT',
        reason: 'InvalidFilePath',
        field,
        message: `${field}: invalid file path ${JSON.stringify(file.path)}: ${
          seen.has(file.path) ? 'given more than once' : 'reserved for the writer'
        }`,
      });
    }
    seen.add(file.path);
  });
}

async function step<T>(action: string, path: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw fsFailure(err, action, path);
  }
}

/**
 * Same bytes and same permission bits: nothing to do (a rename would only bump mtimes). Anything
 * in the way that rename(2) cannot replace (a directory) fails here, before any rename happened.
 * Only called for names the target listing holds: a missing file is not worth a failing lstat.
 */
async function isUnchanged(target: string, file: RenderedFile, ops: FsOps): Promise<boolean> {
  const path = entryPath(target, file.path);
  let stats;
  try {
    stats = await ops.lstat(path);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
  if (stats.isDirectory()) {
    throw new SecretletError({
      code: 'INTERNAL',
      reason: 'PayloadWriteFailed',
      message: `failed to write ${path}: a directory is in the way`,
    });
  }
  if (!stats.isFile() || (stats.mode & PERMISSION_BITS) !== (file.mode & PERMISSION_BITS)) return false;
  if (stats.size !== file.contents.byteLength) return false;
  return (await ops.readFile(path)).equals(file.contents);
}

/**
 * Lists the target once per write: removes temp files a crash left behind and returns the other
 * names, which spare the per-file lstat of names that are not there (the cold path).
 */
async function removeLeftoverTemps(target: string, ops: FsOps): Promise<Set<string>> {
  const names = await step('list', target, () => ops.readdir(target));
  const present = new Set<string>();
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX)) await step('remove', join(target, name), () => unlinkQuietly(join(target, name), ops));
    else present.add(name);
  }
  return present;
}

function tempName(): string {
  return `${TEMP_PREFIX}${randomInt(0, 2 ** 48 - 1)}`;
}

async function unlinkQuietly(path: string, ops: FsOps): Promise<void> {
  try {
    await ops.unlink(path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/**
 * Removes files listed in the manifest but absent from the payload; records the payload's names.
 * `present` is the target's listing from the start of this write (the manifest is only written here).
 */
async function reconcileManifest(
  target: string,
  files: readonly RenderedFile[],
  present: ReadonlySet<string>,
  ops: FsOps,
): Promise<boolean> {
  const manifestPath = join(target, MANIFEST_NAME);
  const hadManifest = present.has(MANIFEST_NAME);
  const previous = hadManifest ? await step('read', manifestPath, () => readManifest(manifestPath, ops)) : [];
  const current = files.map((f) => f.path);
  const keep = new Set(current);
  let removed = false;
  for (const name of previous) {
    if (keep.has(name) || !present.has(name)) continue;
    const path = join(target, name);
    await step('remove', path, async () => {
      try {
        if ((await ops.lstat(path)).isFile()) {
          await ops.unlink(path);
          removed = true;
        }
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
  }
  const text = JSON.stringify(current);
  if (!hadManifest || text !== JSON.stringify(previous)) {
    const temp = join(target, tempName());
    await step('write', manifestPath, async () => {
      await ops.writeNewFileDurably(temp, Buffer.from(text), 0o600);
      await ops.rename(temp, manifestPath);
    });
  }
  return removed;
}

async function readManifest(path: string, ops: FsOps): Promise<string[]> {
  try {
    const parsed: unknown = JSON.parse((await ops.readFile(path)).toString('utf8'));
    return Array.isArray(parsed) ? parsed.filter((n): n is string => typeof n === 'string' && !n.includes('/')) : [];
  } catch (err) {
    // A missing or unreadable manifest only means we cannot tell what is stale: remove nothing.
    if (isNotFound(err) || err instanceof SyntaxError) return [];
    throw err;
  }
}
