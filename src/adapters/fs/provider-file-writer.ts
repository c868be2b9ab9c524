/**
 * The provider door's writer for "provider writes" mode (ASCP's default, aws-provider.md §13.2):
 * flat files straight in the mount dir, each replaced by rename(2) so a reader never sees a torn
 * file. Unlike ASCP, which renames each file as soon as it is fetched (a failure half-way leaves
 * some files new and some old), this writer is all-or-nothing: every file is first written to a
 * temp file and fsync-ed, and only when all of them succeeded is any of them renamed into place.
 *
 * Known limit: a rename failing after an earlier one succeeded (a disk-level error; a directory
 * in the way is caught before any rename) leaves the files renamed so far; the rest stay old.
 */
import { randomInt } from 'node:crypto';
import { lstat, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretletError } from '../../core/errors.js';
import type { RenderedFile } from '../../core/model.js';
import type { PayloadWriter, WriteOutcome } from '../../core/ports/payload-writer.js';
import { PERMISSION_BITS, fsFailure, fsyncDirectory, isNotFound, writeNewFileDurably } from './durable-io.js';
import { validateFlatFileName } from './payload-paths.js';
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
}

interface PendingFile {
  name: string;
  temp: string;
}

export class ProviderFileWriter implements PayloadWriter {
  private readonly removeStale: boolean;
  private readonly locks = new TargetLocks();

  constructor(options: ProviderFileWriterOptions = {}) {
    this.removeStale = options.removeStale ?? false;
  }

  async write(targetDir: string, files: readonly RenderedFile[]): Promise<WriteOutcome> {
    validateNames(files);
    return this.locks.run(targetDir, () => this.writeValidated(targetDir, files));
  }

  private async writeValidated(target: string, files: readonly RenderedFile[]): Promise<WriteOutcome> {
    await removeLeftoverTemps(target);
    const pending: PendingFile[] = [];
    try {
      for (const file of files) {
        if (await isUnchanged(target, file)) continue;
        // Not derived from the file name: a 255-byte name plus a prefix would exceed NAME_MAX.
        const temp = join(target, tempName());
        pending.push({ name: file.path, temp });
        await writeNewFileDurably(temp, file.contents, file.mode);
      }
    } catch (err) {
      await Promise.all(pending.map((p) => unlinkQuietly(p.temp)));
      throw fsFailure(err, 'write payload into', target);
    }

    // All bytes are durable in temp files: now, and only now, the new contents become visible.
    for (const [i, p] of pending.entries()) {
      try {
        await rename(p.temp, join(target, p.name));
      } catch (err) {
        await Promise.all(pending.slice(i).map((q) => unlinkQuietly(q.temp)));
        throw fsFailure(err, 'rename into place', join(target, p.name));
      }
    }
    let removed = false;
    if (this.removeStale) removed = await reconcileManifest(target, files);
    if (pending.length > 0 || removed) await step('sync', target, () => fsyncDirectory(target));
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
 */
async function isUnchanged(target: string, file: RenderedFile): Promise<boolean> {
  const path = join(target, file.path);
  let stats;
  try {
    stats = await lstat(path);
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
  return (await readFile(path)).equals(file.contents);
}

async function removeLeftoverTemps(target: string): Promise<void> {
  const names = await step('list', target, () => readdir(target));
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX)) await step('remove', join(target, name), () => unlinkQuietly(join(target, name)));
  }
}

function tempName(): string {
  return `${TEMP_PREFIX}${randomInt(0, 2 ** 48 - 1)}`;
}

async function unlinkQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Removes files listed in the manifest but absent from the payload; records the payload's names. */
async function reconcileManifest(target: string, files: readonly RenderedFile[]): Promise<boolean> {
  const manifestPath = join(target, MANIFEST_NAME);
  const previous = await step('read', manifestPath, () => readManifest(manifestPath));
  const current = files.map((f) => f.path);
  const keep = new Set(current);
  let removed = false;
  for (const name of previous) {
    if (keep.has(name)) continue;
    const path = join(target, name);
    await step('remove', path, async () => {
      try {
        if ((await lstat(path)).isFile()) {
          await unlink(path);
          removed = true;
        }
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    });
  }
  const text = JSON.stringify(current);
  if (text !== JSON.stringify(previous) || !(await exists(manifestPath))) {
    const temp = join(target, tempName());
    await step('write', manifestPath, async () => {
      await writeNewFileDurably(temp, Buffer.from(text), 0o600);
      await rename(temp, manifestPath);
    });
  }
  return removed;
}

async function readManifest(path: string): Promise<string[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    return Array.isArray(parsed) ? parsed.filter((n): n is string => typeof n === 'string' && !n.includes('/')) : [];
  } catch (err) {
    // A missing or unreadable manifest only means we cannot tell what is stale: remove nothing.
    if (isNotFound(err) || err instanceof SyntaxError) return [];
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
