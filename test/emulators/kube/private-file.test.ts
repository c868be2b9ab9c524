/**
 * The emulator's kubeconfig (it holds the bearer token) is written 0600 whatever was at the path:
 * a file another user pre-created world-readable, or a symlink planted to make root overwrite
 * another file.
 */
import { chmod, lstat, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writePrivateFile } from '../../../src/emulators/kube/private-file.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'private-file-'));
  dirs.push(dir);
  return dir;
}

describe('writePrivateFile', () => {
  it('leaves a pre-created world-readable file replaced by one only its owner can read', async () => {
    const dir = await freshDir();
    const path = join(dir, 'kubeconfig');
    await writeFile(path, 'planted');
    await chmod(path, 0o666);
    await writePrivateFile(path, 'token: secret\n');
    expect(((await lstat(path)).mode & 0o777).toString(8)).toBe('600');
    expect(await readFile(path, 'utf8')).toBe('token: secret\n');
    expect(await readdir(dir)).toEqual(['kubeconfig']);
  });

  it('replaces a symlink at the path instead of writing through it', async () => {
    const dir = await freshDir();
    const victim = join(dir, 'victim');
    await writeFile(victim, 'keep me');
    const path = join(dir, 'kubeconfig');
    await symlink(victim, path);
    await writePrivateFile(path, 'token: secret\n');
    expect(await readFile(victim, 'utf8')).toBe('keep me');
    expect((await lstat(path)).isSymbolicLink()).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('token: secret\n');
  });
});
