/**
 * The few file-system moves the log's durability rests on. POSIX only makes a new, renamed or
 * removed directory entry durable once the directory itself is fsynced, so every create, rename
 * and unlink that matters is followed by `syncDirectory`.
 */
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `name` in `dir` so that after a crash it is either absent (or its previous version) or
 * complete: write `<name>.tmp`, fsync it, rename over `name`, fsync the directory.
 */
export async function writeFileDurably(dir: string, name: string, contents: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = join(dir, `${name}.tmp`);
  try {
    const handle = await open(temp, 'w', mode);
    try {
      await handle.writeFile(contents);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, name));
  } catch (err) {
    // A full disk fails every compaction's snapshot this way, each under a new name: left behind,
    // the temp files would pile up and keep the disk full until the next restart cleaned them.
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
}

/** Removes files by name (missing ones are fine), then makes the removals durable. */
export async function removeDurably(dir: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  for (const name of names) await rm(join(dir, name), { force: true });
  await syncDirectory(dir);
}
