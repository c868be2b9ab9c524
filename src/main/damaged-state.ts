/**
 * What the agent does with a state directory whose event log (or node key) it cannot trust.
 *
 * The log is the agent's memory of facts kubelet and the driver hand it again anyway: kubelet
 * republishes every mount (the CSIDriver has requiresRepublish), the driver's rotation calls Mount
 * for every pod, and Secret sync follows the mounts. Refusing to start over a damaged log would
 * instead stop every mount of the node (kubelet crash-loops the agent) until someone logs in to the
 * node. So the damaged files are moved, untouched, into `damaged-<time>/` for a bug report, and the
 * agent starts with an empty log; the newest few such directories are kept so a log that keeps
 * breaking cannot fill the disk.
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory } from '../adapters/eventlog/durable-files.js';

/** The names in the state dir that are set aside together: the log and the key its hashes use. */
const STATE_ENTRIES = ['eventlog', 'node-hash.key'] as const;
const DAMAGED_PREFIX = 'damaged-';
/** How many set-aside directories stay; older ones are removed. */
export const KEPT_DAMAGED_SETS = 3;

export interface SetAside {
  /** Where the damaged files now are. */
  dir: string;
  /** The entries moved there (a missing one is not an error: the key alone may be damaged). */
  moved: string[];
  /** Older set-aside directories removed to keep `KEPT_DAMAGED_SETS`. */
  removed: string[];
}

/**
 * Moves the log and the node key into `<stateDir>/damaged-<now>/`, makes the moves durable, and
 * removes all but the newest `KEPT_DAMAGED_SETS` set-aside directories. The time stamp sorts as
 * text and carries no colon, so the name is safe in any shell and on any file system.
 */
export async function setAsideDamagedState(stateDir: string, now: Date): Promise<SetAside> {
  const dir = await freshDamagedDir(stateDir, now);
  const moved: string[] = [];
  for (const name of STATE_ENTRIES) {
    try {
      await rename(join(stateDir, name), join(dir, name));
      moved.push(name);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
    }
  }
  await syncDirectory(dir);
  await syncDirectory(stateDir);
  const sets = await listDamagedSets(stateDir);
  const removed = sets.slice(0, Math.max(0, sets.length - KEPT_DAMAGED_SETS));
  for (const name of removed) await rm(join(stateDir, name), { recursive: true, force: true });
  if (removed.length > 0) await syncDirectory(stateDir);
  return { dir, moved, removed };
}

/** The set-aside directories in the state dir, oldest first. */
export async function listDamagedSets(stateDir: string): Promise<string[]> {
  const names = await readdir(stateDir, { withFileTypes: true });
  return names
    .filter((e) => e.isDirectory() && e.name.startsWith(DAMAGED_PREFIX))
    .map((e) => e.name)
    .sort();
}

/** `damaged-20261207T212855.123Z`, with `-2`, `-3`… should two starts fall in one millisecond. */
async function freshDamagedDir(stateDir: string, now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, '');
  for (let n = 1; ; n++) {
    const dir = join(stateDir, `${DAMAGED_PREFIX}${stamp}${n === 1 ? '' : `-${n}`}`);
    try {
      await mkdir(dir, { mode: 0o700 });
      return dir;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EEXIST') throw err;
    }
  }
}
