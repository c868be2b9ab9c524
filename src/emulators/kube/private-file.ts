/**
 * Writes a file only its owner can read, whatever was at the path before: the kubeconfig holds the
 * emulator's bearer token. `writeFile(path, …, { mode })` keeps an existing file's mode (a file
 * another user pre-created 0666 stays readable to them) and follows a symlink planted at the path.
 * Here the bytes go to a new file created exclusively (never an existing one, never through a
 * symlink) with mode 0600, which is then renamed over the path: a rename replaces the entry itself.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writePrivateFile(path: string, contents: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(contents);
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}
