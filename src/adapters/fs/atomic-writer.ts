/**
 * Kubelet's atomic writer (driver.md §2.5), as the CSI driver uses it for "driver writes" mode and
 * as this agent uses it for its own kubelet door. A reader that resolves `..data` once sees one
 * complete payload version: the new version is written in full to a fresh timestamped directory,
 * fsync-ed, and published by a single rename of the `..data_tmp` symlink over `..data`.
 *
 * Compatibility points kept on purpose:
 * - paths are validated exactly as upstream (INVALID_ARGUMENT naming the path);
 * - a rewrite with identical bytes that removes nothing is a no-op that does not touch the disk
 *   (so inotify watchers on `..data` do not fire); a mode-only change is ignored, as upstream;
 * - a top-level entry that is not a symlink (written directly by an older provider) is removed first,
 *   as the driver's `writer.go` does before calling the writer.
 */
import { lstat, mkdir, readFile, readdir, rename, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RenderedFile } from '../../core/model.js';
import type { Clock } from '../../core/ports/clock.js';
import type { PayloadWriter, WriteOutcome } from '../../core/ports/payload-writer.js';
import {
  DATA_LINK,
  DATA_TMP_LINK,
  isTimestampDirName,
  makeTimestampDir,
  readDataLink,
  removeCrashLeftovers,
} from './atomic-layout.js';
import { fsFailure, fsyncDirectory, isNotFound, removeAll, writeNewFileDurably } from './durable-io.js';
import { parentsOf, topLevelName, validatePayload } from './payload-paths.js';
import { TargetLocks } from './target-locks.js';

export interface KubeletAtomicWriterOptions {
  /** Names the timestamped directories; defaults to the system clock. */
  clock?: Pick<Clock, 'now'>;
}

export class KubeletAtomicWriter implements PayloadWriter {
  private readonly clock: Pick<Clock, 'now'>;
  private readonly locks = new TargetLocks();

  constructor(options: KubeletAtomicWriterOptions = {}) {
    this.clock = options.clock ?? { now: () => Date.now() };
  }

  async write(targetDir: string, files: readonly RenderedFile[]): Promise<WriteOutcome> {
    validatePayload(files);
    return this.locks.run(targetDir, () => this.writeValidated(targetDir, files));
  }

  private async writeValidated(target: string, files: readonly RenderedFile[]): Promise<WriteOutcome> {
    const oldDir = await step('read the data link of', target, () => readDataLink(target));
    await step('clean up leftovers in', target, () => removeCrashLeftovers(target, oldDir));

    let obsolete = new Set<string>();
    if (oldDir !== undefined) {
      const oldPath = join(target, oldDir);
      obsolete = await step('list', oldPath, () => obsoletePaths(oldPath, files));
      const same = await step('compare with', oldPath, () => sameContents(oldPath, files));
      if (same && obsolete.size === 0) return { changed: false };
    }

    await removeNonSymlinkTopLevels(target, files);
    const newDir = await step('create a payload dir in', target, () => makeTimestampDir(target, this.clock.now()));
    const newPath = join(target, newDir);
    try {
      await writePayload(newPath, files);
    } catch (err) {
      await removeAll(newPath);
      throw fsFailure(err, 'write payload into', newPath);
    }
    await createTopLevelLinks(target, files);
    await swapDataLink(target, newDir);

    // The new version is live from here on; what follows only tidies up the old one.
    for (const path of obsolete) {
      if (!path.includes('/')) await step('remove', join(target, path), () => removeIfSymlink(join(target, path)));
    }
    // Only ever delete a dir this writer names: `..data` is a link anyone with access could repoint.
    if (oldDir !== undefined && isTimestampDirName(oldDir)) {
      await step('remove', join(target, oldDir), () => removeAll(join(target, oldDir)));
    }
    return { changed: true };
  }
}

async function step<T>(action: string, path: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw fsFailure(err, action, path);
  }
}

/**
 * Every entry of the old payload dir that the new payload no longer has. Parents of new paths are
 * kept, so a directory that still holds files is not listed.
 */
async function obsoletePaths(oldPath: string, files: readonly RenderedFile[]): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const file of files) {
    keep.add(file.path);
    for (const parent of parentsOf(file.path)) keep.add(parent);
  }
  const obsolete = new Set<string>();
  let entries: string[];
  try {
    entries = await readdir(oldPath, { recursive: true });
  } catch (err) {
    if (isNotFound(err)) return obsolete;
    throw err;
  }
  for (const entry of entries) if (!keep.has(entry)) obsolete.add(entry);
  return obsolete;
}

/** True when every file of the payload already exists in the old dir with exactly these bytes. */
async function sameContents(oldPath: string, files: readonly RenderedFile[]): Promise<boolean> {
  for (const file of files) {
    let existing: Buffer;
    try {
      existing = await readFile(join(oldPath, file.path));
    } catch {
      // Missing, or a directory where a file now goes: either way the payload differs.
      return false;
    }
    if (!existing.equals(file.contents)) return false;
  }
  return true;
}

async function removeNonSymlinkTopLevels(target: string, files: readonly RenderedFile[]): Promise<void> {
  for (const name of new Set(files.map((f) => topLevelName(f.path)))) {
    const path = join(target, name);
    let isLink: boolean;
    try {
      isLink = (await lstat(path)).isSymbolicLink();
    } catch (err) {
      if (isNotFound(err)) continue;
      throw fsFailure(err, 'inspect', path);
    }
    if (!isLink) await step('remove', path, () => removeAll(path));
  }
}

/** Writes every file under `dir`, then fsyncs the directories bottom-up so their entries are durable. */
async function writePayload(dir: string, files: readonly RenderedFile[]): Promise<void> {
  const dirs = new Set<string>([dir]);
  for (const file of files) {
    const path = join(dir, file.path);
    const parent = dirname(path);
    if (!dirs.has(parent)) {
      await mkdir(parent, { recursive: true, mode: 0o777 });
      for (let d = parent; d !== dir && !dirs.has(d); d = dirname(d)) dirs.add(d);
    }
    await writeNewFileDurably(path, file.contents, file.mode);
  }
  const deepestFirst = [...dirs].sort((a, b) => b.length - a.length);
  for (const d of deepestFirst) await fsyncDirectory(d);
}

/** `<target>/<first> -> ..data/<first>` for each top-level name that has no link yet. */
async function createTopLevelLinks(target: string, files: readonly RenderedFile[]): Promise<void> {
  for (const name of new Set(files.map((f) => topLevelName(f.path)))) {
    const path = join(target, name);
    try {
      await symlink(join(DATA_LINK, name), path);
    } catch (err) {
      // An existing link already points through `..data` (non-links were removed above).
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fsFailure(err, 'create symlink', path);
    }
  }
}

/** The one step that publishes the new version: rename(2) of a symlink is atomic. */
async function swapDataLink(target: string, newDir: string): Promise<void> {
  const tmp = join(target, DATA_TMP_LINK);
  try {
    await symlink(newDir, tmp);
    await rename(tmp, join(target, DATA_LINK));
  } catch (err) {
    await removeAll(tmp);
    await removeAll(join(target, newDir));
    throw fsFailure(err, 'publish the payload in', target);
  }
  // After the rename the new dir is live and must not be removed, even if persisting the swap fails.
  await step('sync', target, () => fsyncDirectory(target));
}

async function removeIfSymlink(path: string): Promise<void> {
  try {
    if ((await lstat(path)).isSymbolicLink()) await unlink(path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
