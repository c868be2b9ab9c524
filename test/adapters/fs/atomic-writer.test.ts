import { lstat, mkdir, readFile, readdir, readlink, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATA_LINK, KubeletAtomicWriter } from '../../../src/adapters/fs/index.js';
import { inlineFsOps } from '../../../src/adapters/fs/fs-ops.js';
import type { FsOps } from '../../../src/adapters/fs/fs-ops.js';
import { SecretletError } from '../../../src/core/errors.js';
import type { FsOpsKind } from '../../../src/adapters/fs/index.js';
import { tempDirs, textFile } from '../../support/temp-target.js';
import { targetStamp } from '../../../src/adapters/fs/target-stamp.js';

const FIXED_TIME = Date.UTC(2026, 3, 30, 12, 0, 5);
const dirs = tempDirs();
let target: string;
afterEach(() => dirs.removeAll());

async function timestampDirs(): Promise<string[]> {
  return (await readdir(target)).filter((n) => n.startsWith('..') && n !== '..data');
}
const text = (path: string) => readFile(join(target, path), 'utf8');
const permissions = async (path: string) => (await stat(join(target, path))).mode & 0o777;

// Every guarantee holds with both sets of filesystem calls: forced here, so both run on any directory.
describe.each<FsOpsKind>(['inline', 'async'])('KubeletAtomicWriter with %s fs calls', (fsOps) => {
  let writer: KubeletAtomicWriter;
  beforeEach(async () => {
    target = await dirs.make();
    writer = new KubeletAtomicWriter({ clock: { now: () => FIXED_TIME }, fsOps });
  });

  it('lays out a first write as kubelet does: timestamped dir, ..data link, one link per top-level name', async () => {
    const outcome = await writer.write(target, [
      textFile('username', 'admin', 0o644),
      textFile('password', 'hunter2', 0o600),
      textFile('certs/tls.crt', 'CERT', 0o400),
      textFile('certs/ca/root.crt', 'ROOT', 0o444),
    ]);

    expect(outcome).toEqual({ changed: true, stamp: targetStamp(target) });
    const [tsDir, ...others] = await timestampDirs();
    expect(others).toEqual([]);
    expect(tsDir).toMatch(/^\.\.2026_04_30_12_00_05\.\d+$/);
    expect((await readdir(target)).sort()).toEqual([tsDir, '..data', 'certs', 'password', 'username'].sort());
    expect(await readlink(join(target, '..data'))).toBe(tsDir);
    expect(await readlink(join(target, 'username'))).toBe('..data/username');
    expect(await readlink(join(target, 'certs'))).toBe('..data/certs');
    expect((await stat(join(target, tsDir!))).mode & 0o777).toBe(0o755);
    expect(await text('username')).toBe('admin');
    expect(await text('certs/ca/root.crt')).toBe('ROOT');
    expect(await permissions('password')).toBe(0o600);
    expect(await permissions('certs/tls.crt')).toBe(0o400);
  });

  it('applies only the permission bits of a mode, and mode 0 really means 0000', async () => {
    await writer.write(target, [textFile('setuid', 'x', 0o4755), textFile('locked', 'y', 0)]);
    expect(await permissions('setuid')).toBe(0o755);
    expect(await permissions('locked')).toBe(0);
  });

  it('publishes a changed payload in a new dir and removes the old one', async () => {
    await writer.write(target, [textFile('a', 'v1'), textFile('b', 'same')]);
    const [oldDir] = await timestampDirs();

    const outcome = await writer.write(target, [textFile('a', 'v2'), textFile('b', 'same')]);

    expect(outcome).toEqual({ changed: true, stamp: targetStamp(target) });
    const current = await timestampDirs();
    expect(current).toHaveLength(1);
    expect(current[0]).not.toBe(oldDir);
    expect(await readlink(join(target, '..data'))).toBe(current[0]);
    expect(await text('a')).toBe('v2');
    expect(await text('b')).toBe('same');
  });

  it('does not touch the disk when the bytes are identical and nothing is removed', async () => {
    await writer.write(target, [textFile('a', 'v1'), textFile('dir/b', 'v1')]);
    const before = await lstat(join(target, '..data'));
    const dirBefore = await timestampDirs();

    // A mode-only change is ignored, as upstream (the bytes decide).
    const outcome = await writer.write(target, [textFile('a', 'v1', 0o600), textFile('dir/b', 'v1')]);

    expect(outcome).toEqual({ changed: false, stamp: targetStamp(target) });
    const after = await lstat(join(target, '..data'));
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(await timestampDirs()).toEqual(dirBefore);
    expect(await permissions('a')).toBe(0o644);
  });

  it('relinks a user-visible name someone removed, even when the bytes are identical', async () => {
    await writer.write(target, [textFile('a', 'v1'), textFile('dir/b', 'v1')]);
    await unlink(join(target, 'dir'));

    const outcome = await writer.write(target, [textFile('a', 'v1'), textFile('dir/b', 'v1')]);

    expect(outcome).toEqual({ changed: true, stamp: targetStamp(target) });
    expect(await text('dir/b')).toBe('v1');
    expect(await text('a')).toBe('v1');
    expect(await timestampDirs()).toHaveLength(1);
  });

  it("removes a dropped object's file and its top-level symlink", async () => {
    await writer.write(target, [textFile('keep', 'k'), textFile('drop', 'd'), textFile('gone/deep', 'g')]);

    const outcome = await writer.write(target, [textFile('keep', 'k')]);

    expect(outcome).toEqual({ changed: true, stamp: targetStamp(target) });
    const visible = (await readdir(target)).filter((n) => !n.startsWith('..'));
    expect(visible).toEqual(['keep']);
    await expect(lstat(join(target, 'drop'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps a directory that still holds files and drops only the removed file inside it', async () => {
    await writer.write(target, [textFile('dir/x', 'x'), textFile('dir/y', 'y'), textFile('dir/sub/z', 'z')]);

    await writer.write(target, [textFile('dir/x', 'x'), textFile('dir/sub/z', 'z2')]);

    expect((await readdir(join(target, 'dir'))).sort()).toEqual(['sub', 'x']);
    expect(await text('dir/sub/z')).toBe('z2');
  });

  it('turns a top-level file into a directory across versions', async () => {
    await writer.write(target, [textFile('a', 'file')]);
    await writer.write(target, [textFile('a/b', 'nested')]);
    expect(await text('a/b')).toBe('nested');
    expect(await readlink(join(target, 'a'))).toBe('..data/a');
  });

  it('rejects an invalid path before touching the disk, naming the path', async () => {
    const err = await writer.write(target, [textFile('ok', '1'), textFile('..data', '2')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretletError);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'files[1].path' });
    expect((err as Error).message).toContain('"..data"');
    expect(await readdir(target)).toEqual([]);
  });

  it('cleans up a ..data_tmp link and orphan payload dirs left by a crash, keeping the live version', async () => {
    await writer.write(target, [textFile('a', 'v1')]);
    const [live] = await timestampDirs();
    await mkdir(join(target, '..2020_01_01_00_00_00.42'));
    await writeFile(join(target, '..2020_01_01_00_00_00.42', 'a'), 'half-written');
    await symlink('..2020_01_01_00_00_00.42', join(target, '..data_tmp'));

    const outcome = await writer.write(target, [textFile('a', 'v1')]);

    expect(outcome).toEqual({ changed: false, stamp: targetStamp(target) });
    expect(await timestampDirs()).toEqual([live]);
    expect(await text('a')).toBe('v1');
  });

  it('never deletes a directory outside the target that ..data was repointed to', async () => {
    await writer.write(target, [textFile('a', 'v1')]);
    const outside = await dirs.make();
    await writeFile(join(outside, 'keep-me'), 'not ours');
    await unlink(join(target, '..data'));
    await symlink(relative(target, outside), join(target, '..data'));

    const outcome = await writer.write(target, [textFile('a', 'v2')]);

    expect(outcome).toEqual({ changed: true, stamp: targetStamp(target) });
    expect(await readdir(outside)).toEqual(['keep-me']);
    expect(await readFile(join(outside, 'keep-me'), 'utf8')).toBe('not ours');
    expect(await readlink(join(target, '..data'))).toMatch(/^\.\.2026_04_30_12_00_05\.\d+$/);
    expect(await text('a')).toBe('v2');
  });

  it('replaces a file an older provider wrote directly at a top-level name with the symlink', async () => {
    await writeFile(join(target, 'a'), 'written by provider');
    await writer.write(target, [textFile('a', 'v1')]);
    expect((await lstat(join(target, 'a'))).isSymbolicLink()).toBe(true);
    expect(await text('a')).toBe('v1');
  });

  it('serialises concurrent writes to one target: the last one wins and one payload dir remains', async () => {
    await Promise.all([
      writer.write(target, [textFile('a', 'v1'), textFile('b', 'v1')]),
      writer.write(target, [textFile('a', 'v2')]),
      writer.write(target, [textFile('a', 'v3'), textFile('c', 'v3')]),
    ]);
    expect(await timestampDirs()).toHaveLength(1);
    expect((await readdir(target)).filter((n) => !n.startsWith('..')).sort()).toEqual(['a', 'c']);
    expect(await text('a')).toBe('v3');
  });

  it('fails with INTERNAL naming the target, never the bytes, when the target dir does not exist', async () => {
    const missing = join(target, 'missing');
    const err = await writer.write(missing, [textFile('a', 'hunter2-secret')]).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'INTERNAL',
      reason: 'PayloadWriteFailed',
      message: expect.stringContaining(missing),
    });
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('keeps the live version and leaves no payload dir behind when writing the new one fails', async () => {
    await writer.write(target, [textFile('a', 'old-a'), textFile('b', 'old-b')]);
    const [live] = await timestampDirs();
    // A valid payload path (< 4096 bytes) that is too long once the target and payload dir prefix
    // it: the kernel refuses it (ENAMETOOLONG) after the first file of the new version is written.
    const tooDeep = Array.from({ length: 16 }, () => 'd'.repeat(254)).join('/');
    const err = await writer
      .write(target, [textFile('a', 'new-a-hunter2'), textFile(tooDeep, 'deep-hunter2')])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTERNAL', reason: 'PayloadWriteFailed' });
    expect((err as Error).message).toContain(target);
    expect((err as Error).message).toContain('ENAMETOOLONG');
    expect((err as Error).message).not.toContain('hunter2');
    expect(await timestampDirs()).toEqual([live]);
    expect((await readdir(target)).filter((n) => !n.startsWith('..')).sort()).toEqual(['a', 'b']);
    expect(await text('a')).toBe('old-a');
    expect(await text('b')).toBe('old-b');
  });
});

describe('KubeletAtomicWriter when a write fails part way', () => {
  it('leaves no ..data_tmp and no new payload dir behind, and the old payload stays what ..data shows', async () => {
    target = await dirs.make();
    const failingSwap: FsOps = {
      ...inlineFsOps,
      rename: (from: string, to: string) => (to.endsWith(`/${DATA_LINK}`) ? Promise.reject(Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' })) : inlineFsOps.rename(from, to)),
    };
    await new KubeletAtomicWriter({ fsOps: 'inline' }).write(target, [textFile('password', 'old')]);
    const before = await timestampDirs();

    await expect(new KubeletAtomicWriter({ fsOps: failingSwap }).write(target, [textFile('password', 'new')])).rejects.toMatchObject({ code: 'INTERNAL' });
    expect((await readdir(target)).filter((n) => n === '..data_tmp')).toEqual([]);
    expect(await timestampDirs()).toEqual(before);
    expect(await readlink(join(target, DATA_LINK))).toBe(before[0]);
    expect(await readFile(join(target, 'password'), 'utf8')).toBe('old');
  });

  it('keeps the plain files of a volume taken over from another writer when writing the new payload fails', async () => {
    target = await dirs.make();
    await writeFile(join(target, 'password'), 'upstream');
    const failingWrite: FsOps = {
      ...inlineFsOps,
      writeNewFileDurably: () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })),
    };
    await expect(new KubeletAtomicWriter({ fsOps: failingWrite }).write(target, [textFile('password', 'new')])).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(await readFile(join(target, 'password'), 'utf8')).toBe('upstream');
    expect(await timestampDirs()).toEqual([]);
  });
});

