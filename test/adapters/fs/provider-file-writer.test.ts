import { lstat, mkdir, readFile, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MANIFEST_NAME, ProviderFileWriter } from '../../../src/adapters/fs/index.js';
import type { FsOpsKind } from '../../../src/adapters/fs/index.js';
import { tempDirs, textFile } from '../../support/temp-target.js';
import { targetStamp } from '../../../src/adapters/fs/target-stamp.js';

const dirs = tempDirs();
let target: string;
beforeEach(async () => {
  target = await dirs.make();
});
afterEach(() => dirs.removeAll());

const text = (name: string) => readFile(join(target, name), 'utf8');
const permissions = async (name: string) => (await stat(join(target, name))).mode & 0o777;

// Every guarantee holds with both sets of filesystem calls: forced here, so both run on any directory.
describe.each<FsOpsKind>(['inline', 'async'])('ProviderFileWriter with %s fs calls', (fsOps) => {
  it('writes flat files with their modes straight into the target, no symlinks and no manifest', async () => {
    const writer = new ProviderFileWriter({ fsOps });
    const outcome = await writer.write(target, [textFile('db-password', 'p', 0o600), textFile('api-key', 'k', 0o4755)]);

    expect(outcome).toEqual({ changed: true, stamp: targetStamp(target) });
    expect((await readdir(target)).sort()).toEqual(['api-key', 'db-password']);
    expect((await lstat(join(target, 'db-password'))).isFile()).toBe(true);
    expect(await text('db-password')).toBe('p');
    expect(await permissions('db-password')).toBe(0o600);
    expect(await permissions('api-key')).toBe(0o755);
  });

  it('rejects a name with a "/" as ASCP does, writing nothing', async () => {
    const writer = new ProviderFileWriter({ fsOps });
    await expect(writer.write(target, [textFile('ok', '1'), textFile('dir/file', '2')])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'files[1].path',
      message: expect.stringContaining('pattern contains path separator'),
    });
    expect(await readdir(target)).toEqual([]);
  });

  it('is all-or-nothing: a directory in the way of one file keeps every old file and leaves no temp file', async () => {
    const writer = new ProviderFileWriter({ fsOps });
    await writer.write(target, [textFile('a', 'old-a'), textFile('b', 'old-b')]);
    await mkdir(join(target, 'c'));

    const failed = writer.write(target, [textFile('a', 'new-a'), textFile('b', 'new-b'), textFile('c', 'hunter2')]);

    const err = await failed.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining(join(target, 'c')) });
    expect((err as Error).message).not.toContain('hunter2');
    expect(await text('a')).toBe('old-a');
    expect(await text('b')).toBe('old-b');
    expect((await readdir(target)).sort()).toEqual(['a', 'b', 'c']);
  });

  it('leaves files with identical bytes and mode alone (same inode, changed: false)', async () => {
    const writer = new ProviderFileWriter({ fsOps });
    await writer.write(target, [textFile('a', 'v1'), textFile('b', 'v1')]);
    const before = await stat(join(target, 'a'));

    expect(await writer.write(target, [textFile('a', 'v1'), textFile('b', 'v1')])).toEqual({ changed: false, stamp: targetStamp(target) });
    const after = await stat(join(target, 'a'));
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it('rewrites a file deleted behind its back, and only that one', async () => {
    const writer = new ProviderFileWriter({ fsOps });
    await writer.write(target, [textFile('a', 'v1'), textFile('b', 'v1')]);
    const before = await stat(join(target, 'a'));
    await unlink(join(target, 'b'));

    expect(await writer.write(target, [textFile('a', 'v1'), textFile('b', 'v1')])).toEqual({ changed: true, stamp: targetStamp(target) });

    expect(await text('b')).toBe('v1');
    expect((await stat(join(target, 'a'))).ino).toBe(before.ino);
  });

  it('fails with INTERNAL naming the target, never the bytes, when the target dir does not exist', async () => {
    const missing = join(target, 'missing');
    const err = await new ProviderFileWriter({ fsOps }).write(missing, [textFile('a', 'hunter2')]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTERNAL', reason: 'PayloadWriteFailed', message: expect.stringContaining(missing) });
    expect((err as Error).message).not.toContain('hunter2');
  });

  it('rewrites a file whose mode changed even when the bytes did not', async () => {
    const writer = new ProviderFileWriter({ fsOps });
    await writer.write(target, [textFile('a', 'v1', 0o644)]);
    expect(await writer.write(target, [textFile('a', 'v1', 0o400)])).toEqual({ changed: true, stamp: targetStamp(target) });
    expect(await permissions('a')).toBe(0o400);
  });

  it("by default never deletes a dropped object's file, as ASCP", async () => {
    const writer = new ProviderFileWriter({ fsOps });
    await writer.write(target, [textFile('keep', 'k'), textFile('drop', 'd')]);
    expect(await writer.write(target, [textFile('keep', 'k')])).toEqual({ changed: false, stamp: targetStamp(target) });
    expect((await readdir(target)).sort()).toEqual(['drop', 'keep']);
  });

  it('with removeStale, deletes only files it wrote itself that are no longer in the payload', async () => {
    const writer = new ProviderFileWriter({ removeStale: true, fsOps });
    await writeFile(join(target, 'foreign'), 'not ours');
    await writer.write(target, [textFile('keep', 'k'), textFile('drop', 'd')]);

    expect(await writer.write(target, [textFile('keep', 'k')])).toEqual({ changed: true, stamp: targetStamp(target) });

    expect((await readdir(target)).sort()).toEqual([MANIFEST_NAME, 'foreign', 'keep'].sort());
    // A fresh writer (an agent restart) still knows what it wrote, from the manifest.
    const restarted = new ProviderFileWriter({ removeStale: true, fsOps });
    await restarted.write(target, [textFile('other', 'o')]);
    expect((await readdir(target)).sort()).toEqual([MANIFEST_NAME, 'foreign', 'other'].sort());
  });

  it('with removeStale, forgets a stale file someone else already removed', async () => {
    const writer = new ProviderFileWriter({ removeStale: true, fsOps });
    await writer.write(target, [textFile('keep', 'k'), textFile('drop', 'd')]);
    await unlink(join(target, 'drop'));

    expect(await writer.write(target, [textFile('keep', 'k')])).toEqual({ changed: false, stamp: targetStamp(target) });
    expect(JSON.parse(await text(MANIFEST_NAME))).toEqual(['keep']);
  });

  it('removes temp files a crash left behind', async () => {
    await writeFile(join(target, '..secretlet-tmp.12345'), 'half');
    await new ProviderFileWriter({ fsOps }).write(target, [textFile('a', '1')]);
    expect(await readdir(target)).toEqual(['a']);
  });

  it('refuses names reserved for its own bookkeeping', async () => {
    await expect(new ProviderFileWriter({ fsOps }).write(target, [textFile(MANIFEST_NAME, 'x')])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'files[0].path',
    });
  });
});
