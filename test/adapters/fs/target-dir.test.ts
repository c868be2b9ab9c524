import { mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InMemoryVolumeMounter,
  KubeletAtomicWriter,
  LocalTargetDirectory,
  ProviderFileWriter,
  cleanupTarget,
  ensureTargetDir,
  readMountedFiles,
  undoPublish,
} from '../../../src/adapters/fs/index.js';
import { DATA_LINK } from '../../../src/adapters/fs/atomic-layout.js';
import { LockedTargetWriter } from '../../../src/adapters/fs/locked-target-writer.js';
import { TargetLocks } from '../../../src/adapters/fs/target-locks.js';
import { tempDirs, textFile } from '../../support/temp-target.js';

const dirs = tempDirs();
afterEach(() => dirs.removeAll());

const asText = (files: Map<string, Uint8Array>) =>
  Object.fromEntries([...files].map(([k, v]) => [k, Buffer.from(v).toString()]));

describe('ensureTargetDir', () => {
  it('creates missing parents and the target with mode 0750 (minus the umask), and is idempotent', async () => {
    const target = join(await dirs.make(), 'pods/uid/volumes/vol/mount');
    expect(await ensureTargetDir(target)).toBe(true);
    expect(await ensureTargetDir(target)).toBe(false);
    expect((await stat(target)).mode & 0o777).toBe(0o750 & ~process.umask());
  });

  it('refuses a symlink at the target with INVALID_ARGUMENT naming target_path, and creates nothing', async () => {
    const root = await dirs.make();
    await mkdir(join(root, 'elsewhere'));
    await symlink(join(root, 'elsewhere'), join(root, 'mount'));
    await expect(ensureTargetDir(join(root, 'mount'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'InvalidTargetPath', field: 'target_path' });
    expect(await readdir(join(root, 'elsewhere'))).toEqual([]);
  });

  it('fails with INTERNAL naming the path when a file is in the way', async () => {
    const root = await dirs.make();
    await writeFile(join(root, 'file'), '');
    await expect(ensureTargetDir(join(root, 'file/mount'))).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining(`failed to create target path ${join(root, 'file/mount')}`),
    });
  });
});

describe('cleanupTarget (NodeUnpublishVolume)', () => {
  it('removes every entry including ..data and payload dirs, unmounts, then removes the dir', async () => {
    const target = await dirs.make('mount');
    const mounter = new InMemoryVolumeMounter();
    await mounter.mount(target, { sizeBytes: 1024 });
    await new KubeletAtomicWriter().write(target, [textFile('a', '1'), textFile('d/b', '2')]);

    await cleanupTarget(target, mounter);

    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(mounter.calls.map((c) => c.op)).toEqual(['mount', 'unmount']);
    expect(await mounter.isMountPoint(target)).toBe(false);
  });

  it('treats a missing target as success and is safe to repeat', async () => {
    const target = await dirs.make('never-created');
    const mounter = new InMemoryVolumeMounter();
    await cleanupTarget(target, mounter);
    await cleanupTarget(target, mounter);
    expect(mounter.calls).toEqual([]);
  });

  it('only removes the dir when it is not a mount point', async () => {
    const target = await dirs.make('plain');
    await mkdir(target);
    await writeFile(join(target, 'leftover'), 'x');
    const mounter = new InMemoryVolumeMounter();
    await cleanupTarget(target, mounter);
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(mounter.calls).toEqual([]);
  });

  it('removes a regular file found where the target should be, as the driver does, and succeeds', async () => {
    const target = await dirs.make('file-target');
    await writeFile(target, 'stray');
    const mounter = new InMemoryVolumeMounter();
    await cleanupTarget(target, mounter);
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(mounter.calls).toEqual([]);
  });

  it('propagates an unmount failure as INTERNAL and keeps the directory for the retry', async () => {
    const target = await dirs.make('mount');
    const mounter = new InMemoryVolumeMounter();
    await mounter.mount(target, { sizeBytes: 1024 });
    mounter.failNext('unmount', 'device is busy');

    await expect(cleanupTarget(target, mounter)).rejects.toMatchObject({ code: 'INTERNAL', message: 'device is busy' });
    expect(await readdir(target)).toEqual([]);

    await cleanupTarget(target, mounter);
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('is what LocalTargetDirectory does for the TargetDirectory port', async () => {
    const target = await dirs.make('port');
    const mounter = new InMemoryVolumeMounter();
    const targets = new LocalTargetDirectory({ mounter });
    await targets.ensure(target);
    await mounter.mount(target, { sizeBytes: 1 });
    await targets.cleanup(target);
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('undoPublish (a failed first mount)', () => {
  it('removes only what the writer made, then unmounts; the directory and files put there before stay', async () => {
    const target = await dirs.make('mount');
    await mkdir(join(target, '..hidden'), { recursive: true });
    await writeFile(join(target, 'precious'), 'kept');
    const mounter = new InMemoryVolumeMounter();
    await mounter.mount(target, { sizeBytes: 1024 });
    await new KubeletAtomicWriter().write(target, [textFile('a', '1'), textFile('d/b', '2')]);

    await undoPublish(target, mounter, { unmount: true, removeDir: true });

    expect((await readdir(target)).sort()).toEqual(['..hidden', 'precious']);
    expect(await mounter.isMountPoint(target)).toBe(false);
  });

  it('removes the directory it created once it is empty, and leaves one it did not create', async () => {
    const made = await dirs.make('made');
    await mkdir(made);
    await undoPublish(made, new InMemoryVolumeMounter(), { unmount: false, removeDir: true });
    await expect(stat(made)).rejects.toMatchObject({ code: 'ENOENT' });
    const kubelets = await dirs.make('kubelets');
    await mkdir(kubelets);
    await undoPublish(kubelets, new InMemoryVolumeMounter(), { unmount: true, removeDir: false });
    expect((await stat(kubelets)).isDirectory()).toBe(true);
  });

  it('does not follow a symlink at the target, here or on unpublish', async () => {
    const root = await dirs.make();
    const victim = join(root, 'victim');
    await mkdir(victim);
    await writeFile(join(victim, 'precious'), 'kept');
    await symlink(`${DATA_LINK}/x`, join(victim, 'looks-like-a-payload-link'));
    const target = join(root, 'mount');
    await symlink(victim, target);

    await undoPublish(target, new InMemoryVolumeMounter(), { unmount: true, removeDir: true });
    expect((await readdir(victim)).sort()).toEqual(['looks-like-a-payload-link', 'precious']);

    await cleanupTarget(target, new InMemoryVolumeMounter());
    expect((await readdir(victim)).sort()).toEqual(['looks-like-a-payload-link', 'precious']);
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('LocalTargetDirectory.hasPayload', () => {
  it('is false for a mounted target the writer never finished, true once it wrote, false after cleanup', async () => {
    const target = await dirs.make('mount');
    const mounter = new InMemoryVolumeMounter();
    const targets = new LocalTargetDirectory({ mounter });
    await targets.ensure(target);
    await mounter.mount(target, { sizeBytes: 1024 });
    expect(await targets.hasPayload(target)).toBe(false);

    await new KubeletAtomicWriter().write(target, [textFile('a', '1')]);
    expect(await targets.hasPayload(target)).toBe(true);

    await targets.cleanup(target);
    expect(await targets.hasPayload(target)).toBe(false);
  });

  it('takes plain files another writer left (the upstream driver with ASCP writing them) for a payload', async () => {
    const target = await dirs.make('mount');
    await mkdir(join(target, 'certs'), { recursive: true });
    await writeFile(join(target, 'db-password'), 'p');
    const targets = new LocalTargetDirectory({ mounter: new InMemoryVolumeMounter() });
    expect(await targets.hasPayload(target)).toBe(true);
    const onlyDir = await dirs.make('mount2');
    await mkdir(join(onlyDir, 'certs'), { recursive: true });
    expect(await targets.hasPayload(onlyDir)).toBe(true);
  });

  it('does not take what a cut-short first write of its own left for a payload', async () => {
    const target = await dirs.make('mount');
    await mkdir(join(target, '..2026_12_08_00_00_00.123'), { recursive: true });
    await writeFile(join(target, '..2026_12_08_00_00_00.123', 'a'), '1');
    await symlink('..2026_12_08_00_00_00.123', join(target, '..data_tmp'));
    await symlink('..data/a', join(target, 'a'));
    expect(await new LocalTargetDirectory({ mounter: new InMemoryVolumeMounter() }).hasPayload(target)).toBe(false);
  });

  it('does not take a `..data` the writer did not make (a plain file) for a payload', async () => {
    const target = await dirs.make('mount');
    await mkdir(target);
    await writeFile(join(target, '..data'), '');
    expect(await new LocalTargetDirectory({ mounter: new InMemoryVolumeMounter() }).hasPayload(target)).toBe(false);
  });
});

describe('LocalTargetDirectory and LockedTargetWriter sharing one TargetLocks', () => {
  const payload = [textFile('a', '1'), textFile('d/b', '2')];

  /** Starts a rotation-style write of the target from inside unmount(), before unmount resolves. */
  class RacingMounter extends InMemoryVolumeMounter {
    racing: (() => void) | undefined;
    override async unmount(target: string): Promise<void> {
      this.racing?.();
      this.racing = undefined;
      await super.unmount(target);
    }
  }

  it('a rewrite started during unmount waits for the cleanup, then touches nothing', async () => {
    const target = await dirs.make('pods/uid/volumes/vol/mount');
    const locks = new TargetLocks();
    const mounter = new RacingMounter();
    const writer = new LockedTargetWriter({ writer: new KubeletAtomicWriter(), locks, isMountPoint: (t) => mounter.isMountPoint(t) });
    const targets = new LocalTargetDirectory({ mounter, locks });
    await targets.ensure(target);
    await mounter.mount(target, { sizeBytes: 1024 });
    await writer.write(target, payload);

    let rewrite: Promise<unknown> | undefined;
    mounter.racing = () => (rewrite = writer.writeIfWanted(target, [textFile('a', 'new'), textFile('d/b', 'new')], () => true));
    await targets.cleanup(target);

    expect(await rewrite).toEqual({ status: 'target-gone' });
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(target, '..'))).toEqual([]);
  });

  it('writes into a mounted target only while the caller still wants it, checked under the lock', async () => {
    const target = await dirs.make('mount');
    const mounter = new InMemoryVolumeMounter();
    const writer = new LockedTargetWriter({ writer: new KubeletAtomicWriter(), locks: new TargetLocks(), isMountPoint: (t) => mounter.isMountPoint(t) });
    await mounter.mount(target, { sizeBytes: 1024 });

    expect(await writer.writeIfWanted(target, payload, () => false)).toEqual({ status: 'unwanted' });
    expect(await readdir(target)).toEqual([]);
    expect(await writer.writeIfWanted(target, payload, () => true)).toEqual({ status: 'written', outcome: { changed: true, stamp: expect.any(String) } });
    expect(asText(await readMountedFiles(target))).toEqual({ a: '1', 'd/b': '2' });
  });
});

describe('readMountedFiles (Secret sync)', () => {
  it('reads an atomic payload through its symlinks, keyed by relative path, skipping .. entries', async () => {
    const target = await dirs.make();
    await new KubeletAtomicWriter().write(target, [
      textFile('username', 'admin'),
      textFile('certs/tls.crt', 'CRT'),
      textFile('certs/ca/root.crt', 'ROOT'),
    ]);
    expect(asText(await readMountedFiles(target))).toEqual({
      username: 'admin',
      'certs/tls.crt': 'CRT',
      'certs/ca/root.crt': 'ROOT',
    });
  });

  it('reads flat files written by the provider-style writer', async () => {
    const target = await dirs.make();
    await new ProviderFileWriter().write(target, [textFile('a', 'A'), textFile('b', 'B')]);
    await writeFile(join(target, '..secretlet-tmp.1'), 'in flight');
    expect(asText(await readMountedFiles(target))).toEqual({ a: 'A', b: 'B' });
  });

  it('does not enter a symlinked directory below the top level', async () => {
    const target = await dirs.make();
    const elsewhere = await dirs.make();
    await writeFile(join(elsewhere, 'outside'), 'nope');
    await mkdir(join(target, 'dir'));
    await writeFile(join(target, 'dir', 'inside'), 'yes');
    await symlink(elsewhere, join(target, 'dir', 'link'));
    expect(asText(await readMountedFiles(target))).toEqual({ 'dir/inside': 'yes' });
  });

  it('fails with INTERNAL when the target does not exist', async () => {
    await expect(readMountedFiles(await dirs.make('missing'))).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
