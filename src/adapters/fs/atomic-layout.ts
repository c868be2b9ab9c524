/**
 * The on-disk layout of kubelet's atomic writer (driver.md §2.5), shared by the writer and by
 * readers/cleanup code that must recognise the writer's own entries:
 *
 *   <target>/..2026_04_30_12_00_00.123456789/   the real files of one payload version
 *   <target>/..data -> ..2026_04_30_12_00_00.123456789
 *   <target>/<top-level name> -> ..data/<top-level name>
 *
 * The functions that touch the disk take the writer's FsOps (fs-ops.ts); readers outside the
 * writer get the thread-pool calls by default.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { errnoCode, isNotFound } from './durable-io.js';
import type { FsOps } from './fs-ops.js';
import { asyncFsOps } from './fs-ops.js';
import { entryPath } from './payload-paths.js';

export const DATA_LINK = '..data';
export const DATA_TMP_LINK = '..data_tmp';
/** `..` + Go layout `2006_01_02_15_04_05` (UTC) + `.` + random digits, as `os.MkdirTemp` names it. */
const TIMESTAMP_DIR = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/;

export function isTimestampDirName(name: string): boolean {
  return TIMESTAMP_DIR.test(name);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export function timestampPrefix(epochMs: number): string {
  const t = new Date(epochMs);
  return (
    `..${pad(t.getUTCFullYear(), 4)}_${pad(t.getUTCMonth() + 1)}_${pad(t.getUTCDate())}_` +
    `${pad(t.getUTCHours())}_${pad(t.getUTCMinutes())}_${pad(t.getUTCSeconds())}.`
  );
}

/**
 * Creates a fresh timestamped payload dir with mode 0755 (chmod, so the umask does not matter).
 * `target` as `normalizedTarget` spells it (the writer's hot path builds paths by `entryPath`).
 */
export async function makeTimestampDir(target: string, epochMs: number, ops: FsOps = asyncFsOps): Promise<string> {
  for (;;) {
    const name = timestampPrefix(epochMs) + String(randomInt(0, 2 ** 32));
    const path = entryPath(target, name);
    try {
      await ops.mkdir(path, { mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') continue;
      throw err;
    }
    await ops.chmod(path, 0o755);
    return name;
  }
}

/** The name `..data` points to, or undefined before the first write. */
export async function readDataLink(target: string, ops: FsOps = asyncFsOps): Promise<string | undefined> {
  try {
    return await ops.readlink(join(target, DATA_LINK));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The names in `target`; empty when it does not exist (a first write). */
export async function listTarget(target: string, ops: FsOps = asyncFsOps): Promise<string[]> {
  try {
    return await ops.readdir(target);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

/**
 * Removes what a crash between "start writing" and "swap done" can leave behind: a `..data_tmp`
 * link and timestamped dirs that `..data` does not point to. Called at the start of every write
 * with the target's listing (`listTarget`). Returns the names still in the target.
 */
export async function removeCrashLeftovers(
  target: string,
  names: readonly string[],
  current: string | undefined,
  ops: FsOps = asyncFsOps,
): Promise<string[]> {
  const remaining: string[] = [];
  for (const name of names) {
    if (name === DATA_TMP_LINK || (isTimestampDirName(name) && name !== current)) {
      await ops.removeAll(join(target, name));
    } else {
      remaining.push(name);
    }
  }
  return remaining;
}
