/**
 * The two FsOps implementations are interchangeable: same results, same durability contract for
 * new files, and failures delivered as rejected promises carrying the same errno `code`, so the
 * writers' error handling (ENOENT = missing, EEXIST = already linked…) works unchanged on both.
 */
import { mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FsOps } from '../../../src/adapters/fs/fs-ops.js';
import { asyncFsOps, inlineFsOps } from '../../../src/adapters/fs/fs-ops.js';
import { tempDirs } from '../../support/temp-target.js';

const dirs = tempDirs();
let dir: string;
beforeEach(async () => {
  dir = await dirs.make();
});
afterEach(() => dirs.removeAll());

describe.each<[string, FsOps]>([
  ['inline', inlineFsOps],
  ['async', asyncFsOps],
])('%s FsOps', (kind, ops) => {
  it('says which implementation it is', () => {
    expect(ops.kind).toBe(kind);
  });

  describe('writeNewFileDurably', () => {
    it('writes every byte of a large file (longer than one write call may take)', async () => {
      const big = Buffer.alloc(8 * 1024 * 1024 + 7);
      for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) % 251;
      await ops.writeNewFileDurably(join(dir, 'big'), big, 0o644);
      expect((await readFile(join(dir, 'big'))).equals(big)).toBe(true);
    });

    it('applies exactly the permission bits of the mode, whatever the umask', async () => {
      const previous = process.umask(0o077);
      try {
        await ops.writeNewFileDurably(join(dir, 'open'), Buffer.from('x'), 0o4755);
        await ops.writeNewFileDurably(join(dir, 'closed'), Buffer.from('y'), 0);
      } finally {
        process.umask(previous);
      }
      expect((await stat(join(dir, 'open'))).mode & 0o7777).toBe(0o755);
      expect((await stat(join(dir, 'closed'))).mode & 0o7777).toBe(0);
    });

    it('never overwrites an existing file (EEXIST, old bytes kept)', async () => {
      await writeFile(join(dir, 'f'), 'old');
      await expect(ops.writeNewFileDurably(join(dir, 'f'), Buffer.from('new'), 0o644)).rejects.toMatchObject({
        code: 'EEXIST',
      });
      expect(await readFile(join(dir, 'f'), 'utf8')).toBe('old');
    });

    it('writes an empty file', async () => {
      await ops.writeNewFileDurably(join(dir, 'empty'), new Uint8Array(0), 0o600);
      expect((await stat(join(dir, 'empty'))).size).toBe(0);
    });
  });

  it('reads, lists, links, renames and removes like node:fs', async () => {
    await ops.mkdir(join(dir, 'a', 'b'), { recursive: true, mode: 0o755 });
    await ops.writeNewFileDurably(join(dir, 'a', 'b', 'f'), Buffer.from('hello'), 0o640);
    await ops.symlink('a', join(dir, 'link'));
    await ops.fsyncDirectory(dir);

    expect((await ops.readFile(join(dir, 'link', 'b', 'f'))).toString()).toBe('hello');
    expect((await ops.lstat(join(dir, 'link'))).isSymbolicLink()).toBe(true);
    expect(await ops.readlink(join(dir, 'link'))).toBe('a');
    expect((await ops.readdir(dir)).sort()).toEqual(['a', 'link']);
    expect((await ops.readdir(join(dir, 'a'), { recursive: true })).sort()).toEqual(['b', 'b/f']);

    await ops.chmod(join(dir, 'a', 'b', 'f'), 0o600);
    expect((await stat(join(dir, 'a', 'b', 'f'))).mode & 0o777).toBe(0o600);
    await ops.rename(join(dir, 'a', 'b', 'f'), join(dir, 'g'));
    expect(await readFile(join(dir, 'g'), 'utf8')).toBe('hello');
    await ops.unlink(join(dir, 'link'));
    await ops.removeAll(join(dir, 'a'));
    await ops.removeAll(join(dir, 'never-existed'));
    expect(await ops.readdir(dir)).toEqual(['g']);
  });

  it('rejects (never throws synchronously) with the errno code of the failing syscall', async () => {
    await writeFile(join(dir, 'file'), 'x');
    await mkdir(join(dir, 'sub'));
    await symlink('file', join(dir, 'link'));
    const missing = join(dir, 'missing');
    const cases: [() => Promise<unknown>, string][] = [
      [() => ops.lstat(missing), 'ENOENT'],
      [() => ops.readFile(missing), 'ENOENT'],
      [() => ops.readFile(join(dir, 'sub')), 'EISDIR'],
      [() => ops.readdir(missing), 'ENOENT'],
      [() => ops.readlink(join(dir, 'file')), 'EINVAL'],
      [() => ops.mkdir(join(dir, 'sub'), { mode: 0o700 }), 'EEXIST'],
      [() => ops.chmod(missing, 0o600), 'ENOENT'],
      [() => ops.rename(missing, join(dir, 'x')), 'ENOENT'],
      [() => ops.rename(join(dir, 'file'), join(dir, 'sub')), 'EISDIR'],
      [() => ops.symlink('anything', join(dir, 'link')), 'EEXIST'],
      [() => ops.unlink(missing), 'ENOENT'],
      [() => ops.writeNewFileDurably(join(missing, 'f'), Buffer.from('x'), 0o600), 'ENOENT'],
      [() => ops.fsyncDirectory(missing), 'ENOENT'],
    ];
    for (const [call, code] of cases) {
      let promise: Promise<unknown> | undefined;
      expect(() => (promise = call())).not.toThrow();
      await expect(promise).rejects.toMatchObject({ code });
    }
    // Nothing was changed by the failed calls.
    expect(await readlink(join(dir, 'link'))).toBe('file');
    expect(await readFile(join(dir, 'file'), 'utf8')).toBe('x');
  });
});
