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
 *
 * Every write picks its filesystem calls for the target (memory-backed.ts): inline on tmpfs, where
 * production targets live, the thread pool on disk. The logic below is the same for both.
 */
import { dirname, join } from 'node:path';
import type { RenderedFile } from '../../core/model.js';
import type { Clock } from '../../core/ports/clock.js';
import type { PayloadWriter, WriteConditions, WriteOutcome } from '../../core/ports/payload-writer.js';
import { guardedWrite } from './write-conditions.js';
import {
  DATA_LINK,
  DATA_TMP_LINK,
  isTimestampDirName,
  makeTimestampDir,
  listTarget,
  readDataLink,
  removeCrashLeftovers,
} from './atomic-layout.js';
import { fsFailure, isNotFound } from './durable-io.js';
import type { FsOps } from './fs-ops.js';
import type { FsOpsChoice } from './memory-backed.js';
import { TargetFsOps, checkFsOpsChoice } from './memory-backed.js';
import { entryPath, normalizedTarget, parentsOf, topLevelName, validatePayload } from './payload-paths.js';
import { TargetLocks } from './target-locks.js';

export interface KubeletAtomicWriterOptions {
  /** Names the timestamped directories; defaults to the system clock. */
  clock?: Pick<Clock, 'now'>;
  /**
   * Which filesystem calls to use: by the target's filesystem ('auto': inline on tmpfs/ramfs,
   * async elsewhere), or forced. fs-ops.ts explains the difference.
   * @default 'auto'
   */
  fsOps?: FsOpsChoice;
}

export class KubeletAtomicWriter implements PayloadWriter {
  private readonly clock: Pick<Clock, 'now'>;
  private readonly fs: TargetFsOps;
  private readonly locks = new TargetLocks();

  constructor(options: KubeletAtomicWriterOptions = {}) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.fs = new TargetFsOps(checkFsOpsChoice(options.fsOps ?? 'auto', 'options.fsOps'));
  }

  async write(targetDir: string, files: readonly RenderedFile[], conditions?: WriteConditions): Promise<WriteOutcome> {
    validatePayload(files);
    const target = normalizedTarget(targetDir);
    return this.locks.run(targetDir, () => guardedWrite(targetDir, conditions, () => this.fs.run(targetDir, (ops) => this.writeValidated(target, files, ops))));
  }

  private async writeValidated(target: string, files: readonly RenderedFile[], ops: FsOps): Promise<WriteOutcome> {
    // List first: a first write (no `..data` yet) then costs no failing readlink, whose ENOENT
    // error object (message and stack) cost ~0.15 ms per mount in a burst.
    const names = await step('list', target, () => listTarget(target, ops));
    const oldDir = names.includes(DATA_LINK) ? await step('read the data link of', target, () => readDataLink(target, ops)) : undefined;
    const present = await step('clean up leftovers in', target, () => removeCrashLeftovers(target, names, oldDir, ops));

    let obsolete = new Set<string>();
    if (oldDir !== undefined) {
      const oldPath = join(target, oldDir);
      obsolete = await step('list', oldPath, () => obsoletePaths(oldPath, files, ops));
      const same = await step('compare with', oldPath, () => sameContents(oldPath, files, ops));
      // Same bytes but a user-visible link gone (removed behind our back): rewrite, which relinks.
      const linksInPlace = files.every((f) => present.includes(topLevelName(f.path)));
      if (same && obsolete.size === 0 && linksInPlace) return { changed: false };
    }

    const newDir = await step('create a payload dir in', target, () => makeTimestampDir(target, this.clock.now(), ops));
    const newPath = entryPath(target, newDir);
    try {
      await writePayload(newPath, files, ops);
    } catch (err) {
      await ops.removeAll(newPath);
      throw fsFailure(err, 'write payload into', newPath);
    }
    // Only once the new payload is whole: plain files in the way of its links (a volume another
    // writer filled, taken over from the upstream driver) stay readable if the write fails first.
    const linked = await removeNonSymlinkTopLevels(target, files, new Set(present), ops);
    await createTopLevelLinks(target, files, linked, ops);
    await swapDataLink(target, newDir, ops);

    // The new version is live from here on; what follows only tidies up the old one.
    for (const path of obsolete) {
      if (!path.includes('/')) await step('remove', join(target, path), () => removeIfSymlink(join(target, path), ops));
    }
    // Only ever delete a dir this writer names: `..data` is a link anyone with access could repoint.
    if (oldDir !== undefined && isTimestampDirName(oldDir)) {
      await step('remove', join(target, oldDir), () => ops.removeAll(join(target, oldDir)));
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
async function obsoletePaths(oldPath: string, files: readonly RenderedFile[], ops: FsOps): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const file of files) {
    keep.add(file.path);
    for (const parent of parentsOf(file.path)) keep.add(parent);
  }
  const obsolete = new Set<string>();
  let entries: string[];
  try {
    entries = await ops.readdir(oldPath, { recursive: true });
  } catch (err) {
    if (isNotFound(err)) return obsolete;
    throw err;
  }
  for (const entry of entries) if (!keep.has(entry)) obsolete.add(entry);
  return obsolete;
}

/** True when every file of the payload already exists in the old dir with exactly these bytes. */
async function sameContents(oldPath: string, files: readonly RenderedFile[], ops: FsOps): Promise<boolean> {
  for (const file of files) {
    let existing: Buffer;
    try {
      existing = await ops.readFile(join(oldPath, file.path));
    } catch {
      // Missing, or a directory where a file now goes: either way the payload differs.
      return false;
    }
    if (!existing.equals(file.contents)) return false;
  }
  return true;
}

/**
 * Removes top-level entries in the way that are not symlinks; returns the names that already are
 * (links this writer made earlier, which point through `..data`). `present` is the target's listing:
 * a name not in it needs no lstat, which on a first write would fail with ENOENT for every name.
 */
async function removeNonSymlinkTopLevels(
  target: string,
  files: readonly RenderedFile[],
  present: ReadonlySet<string>,
  ops: FsOps,
): Promise<Set<string>> {
  const linked = new Set<string>();
  for (const name of new Set(files.map((f) => topLevelName(f.path)))) {
    if (!present.has(name)) continue;
    const path = entryPath(target, name);
    let isLink: boolean;
    try {
      isLink = (await ops.lstat(path)).isSymbolicLink();
    } catch (err) {
      if (isNotFound(err)) continue;
      throw fsFailure(err, 'inspect', path);
    }
    if (isLink) linked.add(name);
    else await step('remove', path, () => ops.removeAll(path));
  }
  return linked;
}

/** Writes every file under `dir`, then fsyncs the directories bottom-up so their entries are durable. */
async function writePayload(dir: string, files: readonly RenderedFile[], ops: FsOps): Promise<void> {
  const dirs = new Set<string>([dir]);
  for (const file of files) {
    const path = entryPath(dir, file.path);
    const parent = dirname(path);
    if (!dirs.has(parent)) {
      await ops.mkdir(parent, { recursive: true, mode: 0o777 });
      for (let d = parent; d !== dir && !dirs.has(d); d = dirname(d)) dirs.add(d);
    }
    await ops.writeNewFileDurably(path, file.contents, file.mode);
  }
  const deepestFirst = [...dirs].sort((a, b) => b.length - a.length);
  for (const d of deepestFirst) await ops.fsyncDirectory(d);
}

/**
 * `<target>/<first> -> ..data/<first>` for each top-level name that has no link yet. Names in
 * `linked` already have one (a rewrite), so no symlink call is made just to fail with EEXIST.
 */
async function createTopLevelLinks(
  target: string,
  files: readonly RenderedFile[],
  linked: ReadonlySet<string>,
  ops: FsOps,
): Promise<void> {
  for (const name of new Set(files.map((f) => topLevelName(f.path)))) {
    if (linked.has(name)) continue;
    const path = entryPath(target, name);
    try {
      await ops.symlink(entryPath(DATA_LINK, name), path);
    } catch (err) {
      // An existing link already points through `..data` (non-links were removed above).
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fsFailure(err, 'create symlink', path);
    }
  }
}

/** The one step that publishes the new version: rename(2) of a symlink is atomic. */
async function swapDataLink(target: string, newDir: string, ops: FsOps): Promise<void> {
  const tmp = entryPath(target, DATA_TMP_LINK);
  try {
    await ops.symlink(newDir, tmp);
    await ops.rename(tmp, entryPath(target, DATA_LINK));
  } catch (err) {
    await ops.removeAll(tmp);
    await ops.removeAll(entryPath(target, newDir));
    throw fsFailure(err, 'publish the payload in', target);
  }
  // After the rename the new dir is live and must not be removed, even if persisting the swap fails.
  await step('sync', target, () => ops.fsyncDirectory(target));
}

async function removeIfSymlink(path: string, ops: FsOps): Promise<void> {
  try {
    if ((await ops.lstat(path)).isSymbolicLink()) await ops.unlink(path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
