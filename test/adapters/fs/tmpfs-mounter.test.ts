/**
 * Real tmpfs mounts, by default through the mount helper's syscalls; the command path (a runner or
 * commands passed in) keeps its own tests. Mounting needs CAP_SYS_ADMIN; without it those tests are
 * skipped and the test name says why.
 */
import { readFile, readdir, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  DirectCommandRunner,
  HelperProcessCommandRunner,
  KubeletAtomicWriter,
  ProviderFileWriter,
  TmpfsMounter,
  cleanupTarget,
  ensureTargetDir,
  readMountedFiles,
} from '../../../src/adapters/fs/index.js';
import type { CommandResult, CommandRunner } from '../../../src/adapters/fs/index.js';
import type { TmpfsCallResult, TmpfsCalls } from '../../../src/adapters/fs/command-runner-helper.js';
import { compileAgentOptions } from '../../../src/config/agent-options.js';
import { SecretletError } from '../../../src/core/errors.js';
import { mountCapability } from '../../support/privileges.js';
import { tempDirs, textFile } from '../../support/temp-target.js';

const { capable, reason } = mountCapability();
const skip = !capable;
const because = skip ? ` (skipped: ${reason})` : '';

const dirs = tempDirs();
const mounter = new TmpfsMounter();
const mounted = new Set<string>();
afterEach(async () => {
  for (const target of mounted) if (await mounter.isMountPoint(target)) await mounter.unmount(target);
  mounted.clear();
  await dirs.removeAll();
});
afterAll(() => mounter.close());

async function mountedTarget(name = 'mount', sizeBytes = 1024 * 1024): Promise<string> {
  const target = await dirs.make(name);
  await ensureTargetDir(target);
  mounted.add(target);
  await mounter.mount(target, { sizeBytes });
  return target;
}

describe('TmpfsMounter', () => {
  it.skipIf(skip)(`mounts a size-bounded tmpfs with mode 0750 and unmounts it${because}`, async () => {
    const target = await mountedTarget('mount', 256 * 1024);

    expect(await mounter.isMountPoint(target)).toBe(true);
    expect((await stat(target)).mode & 0o777).toBe(0o750);
    const info = await readFile('/proc/self/mountinfo', 'utf8');
    const line = info.split('\n').find((l) => l.split(' ')[4] === target);
    expect(line).toMatch(/ - tmpfs tmpfs .*size=256k/);
    await writeFile(join(target, 'f'), 'x');

    await mounter.unmount(target);
    expect(await mounter.isMountPoint(target)).toBe(false);
    expect(await readdir(target)).toEqual([]);
  });

  it.skipIf(skip)(`recognises a mount point whose path has a space (\\040 in mountinfo)${because}`, async () => {
    const target = await mountedTarget('my volume');
    expect(await mounter.isMountPoint(target)).toBe(true);
    expect(await mounter.isMountPoint(join(target, '..'))).toBe(false);
  });

  it.skipIf(skip)(`answers "mounted" for its tmpfs from device numbers, without reading mountinfo${because}`, async () => {
    const target = await mountedTarget();
    const plain = await dirs.make();
    const empty = join(await dirs.make(), 'mountinfo');
    await writeFile(empty, '');
    // A mountinfo that lists nothing: only the device check can say the tmpfs is mounted.
    const blind = new TmpfsMounter({ mountinfoPath: empty, runner: new DirectCommandRunner() });
    expect(await blind.isMountPoint(target)).toBe(true);
    expect(await blind.isMountPoint(plain)).toBe(false);
  });

  it.skipIf(skip)(`still finds a bind mount of the same filesystem (same device) through mountinfo${because}`, async () => {
    const source = await dirs.make();
    const target = await dirs.make();
    const run = new DirectCommandRunner();
    expect((await run.run('mount', ['--bind', source, target])).code).toBe(0);
    try {
      expect((await stat(target)).dev).toBe((await stat(join(target, '..'))).dev);
      expect(await mounter.isMountPoint(target)).toBe(true);
    } finally {
      await run.run('umount', [target]);
    }
    expect(await mounter.isMountPoint(target)).toBe(false);
  });

  it('says a missing path is not a mount point', async () => {
    expect(await mounter.isMountPoint(await dirs.make('missing'))).toBe(false);
  });

  it.skipIf(skip)(`mounts by syscall a tmpfs of exactly the size and root mode asked${because}`, async () => {
    const own = new TmpfsMounter({ rootMode: 0o755 });
    try {
      const target = await dirs.make('sized');
      await ensureTargetDir(target);
      mounted.add(target);
      await own.mount(target, { sizeBytes: 1024 * 1024 });

      const line = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === target);
      expect(line).toMatch(/ - tmpfs tmpfs .*size=1024k,mode=755/);
      // Per-mount options (field 6): set-uid bits and device nodes in a secrets volume are ignored.
      expect(line?.split(' ')[5]?.split(',')).toEqual(expect.arrayContaining(['nosuid', 'nodev']));
      const fs = await statfs(target);
      expect(fs.bsize * fs.blocks).toBe(1024 * 1024);
      expect((await stat(target)).mode & 0o7777).toBe(0o755);

      await own.unmount(target);
      expect((await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((l) => l.split(' ')[4] === target)).toBe(false);
    } finally {
      await own.close();
    }
  });

  it.skipIf(skip)(`reports a mount on a missing target as TmpfsMountFailed naming ENOENT, the target and options${because}`, async () => {
    const target = await dirs.make('missing');
    const err = await mounter.mount(target, { sizeBytes: 4096 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretletError);
    expect(err).toMatchObject({
      code: 'INTERNAL',
      reason: 'TmpfsMountFailed',
      message: `mount tmpfs at ${target} (size=4096,mode=0750) failed: ENOENT (No such file or directory)`,
    });
  });

  it.skipIf(skip)(`reports unmounting a directory that is not a mount point as TmpfsUnmountFailed naming EINVAL${because}`, async () => {
    const target = await dirs.make();
    const err = await mounter.unmount(target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretletError);
    expect(err).toMatchObject({
      code: 'INTERNAL',
      reason: 'TmpfsUnmountFailed',
      message: `unmount tmpfs at ${target} failed: EINVAL (Invalid argument)`,
    });
  });

  it.skipIf(skip)(`reports umount's stderr as INTERNAL on the command path${because}`, async () => {
    const target = await dirs.make();
    const err = await new TmpfsMounter({ runner: new DirectCommandRunner() }).unmount(target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretletError);
    expect(err).toMatchObject({ code: 'INTERNAL', reason: 'TmpfsUnmountFailed' });
    expect((err as Error).message).toMatch(/not mounted/);
  });

  it('reports a missing mount binary as INTERNAL', async () => {
    const broken = new TmpfsMounter({ mountCommand: '/nonexistent/mount' });
    await expect(broken.mount(await dirs.make(), { sizeBytes: 1024 })).rejects.toMatchObject({
      code: 'INTERNAL',
      reason: 'TmpfsMountFailed',
      message: expect.stringContaining('ENOENT'),
    });
  });

  it('rejects a size that is not a positive integer before running anything', async () => {
    await expect(mounter.mount(await dirs.make(), { sizeBytes: 0 })).rejects.toThrow(TypeError);
  });
});

describe('volume lifecycle on a real tmpfs', () => {
  it.skipIf(skip)(`publish, read back, unpublish, unpublish again${because}`, async () => {
    const target = await mountedTarget();
    await new KubeletAtomicWriter().write(target, [textFile('a', 'A'), textFile('dir/b', 'B')]);

    const files = await readMountedFiles(target);
    expect([...files.keys()]).toEqual(['a', 'dir/b']);
    expect(Buffer.from(files.get('dir/b')!).toString()).toBe('B');

    await cleanupTarget(target, mounter);
    expect(await mounter.isMountPoint(target)).toBe(false);
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    await cleanupTarget(target, mounter);
  });

  it.skipIf(skip)(`ProviderFileWriter keeps the old files when the tmpfs fills up mid-payload${because}`, async () => {
    const target = await mountedTarget('small', 64 * 1024);
    const writer = new ProviderFileWriter();
    await writer.write(target, [textFile('a', 'old-a'), textFile('b', 'old-b')]);

    const tooBig = writer.write(target, [textFile('a', 'new-a'), textFile('b', 'x'.repeat(256 * 1024))]);

    await expect(tooBig).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('ENOSPC') });
    expect(await readFile(join(target, 'a'), 'utf8')).toBe('old-a');
    expect((await readdir(target)).sort()).toEqual(['a', 'b']);
  });

  it.skipIf(skip)(`the default volume size holds a 4 MiB payload being replaced by another${because}`, async () => {
    // 4 MiB is the most a provider response may carry (driver.md §4.6); the atomic writer keeps the
    // live and the new version side by side until the swap, so a rotation needs room for both.
    const target = await mountedTarget('default', compileAgentOptions({ nodeName: 'n' }).tmpfsSizeBytes);
    const files = (fill: string) => Array.from({ length: 64 }, (_, i) => textFile(`f${i}`, fill.repeat(64 * 1024)));
    const writer = new KubeletAtomicWriter();
    await writer.write(target, files('a'));

    await writer.write(target, files('b'));

    expect(await readFile(join(target, 'f63'), 'utf8')).toBe('b'.repeat(64 * 1024));
  });

  it.skipIf(skip)(`KubeletAtomicWriter keeps the live version when the tmpfs fills up${because}`, async () => {
    const target = await mountedTarget('small', 64 * 1024);
    const writer = new KubeletAtomicWriter();
    await writer.write(target, [textFile('a', 'old-a')]);

    await expect(writer.write(target, [textFile('a', 'y'.repeat(256 * 1024))])).rejects.toMatchObject({
      code: 'INTERNAL',
    });
    expect(await readFile(join(target, 'a'), 'utf8')).toBe('old-a');
    expect((await readdir(target)).filter((n) => n.startsWith('..')).length).toBe(2);
  });
});

/** A CommandRunner that records what it was asked to run and answers from a script. */
class ScriptedRunner implements CommandRunner {
  readonly calls: { command: string; args: readonly string[] }[] = [];
  constructor(private readonly answer: () => Promise<CommandResult>) {}
  run(command: string, args: readonly string[]): Promise<CommandResult> {
    this.calls.push({ command, args });
    return this.answer();
  }
}

describe('TmpfsMounter error mapping (scripted runner)', () => {
  const exit = (code: number, stderr = ''): (() => Promise<CommandResult>) => () => Promise.resolve({ code, signal: null, stderr });

  it('runs mount with the size and root mode as options and the target as its own argument', async () => {
    const runner = new ScriptedRunner(exit(0));
    await new TmpfsMounter({ runner, rootMode: 0o755 }).mount('/t/my vol', { sizeBytes: 4096 });
    await new TmpfsMounter({ runner }).unmount('/t/my vol');
    expect(runner.calls).toEqual([
      { command: 'mount', args: ['-t', 'tmpfs', '-o', 'nosuid,nodev,size=4096,mode=0755', 'tmpfs', '/t/my vol'] },
      { command: 'umount', args: ['/t/my vol'] },
    ]);
  });

  it('reports a failed mount as TmpfsMountFailed with the command, its arguments and stderr', async () => {
    const mounter = new TmpfsMounter({ runner: new ScriptedRunner(exit(32, 'mount: /t: permission denied.\n')) });
    const err = await mounter.mount('/t', { sizeBytes: 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretletError);
    expect(err).toMatchObject({
      code: 'INTERNAL',
      reason: 'TmpfsMountFailed',
      message: 'mount -t tmpfs -o nosuid,nodev,size=1024,mode=0750 tmpfs /t failed: mount: /t: permission denied.',
    });
  });

  it('reports a failed unmount without stderr by its exit code or signal', async () => {
    await expect(new TmpfsMounter({ runner: new ScriptedRunner(exit(32)) }).unmount('/t')).rejects.toMatchObject({
      reason: 'TmpfsUnmountFailed',
      message: 'umount /t failed: exit 32',
    });
    const killed = new ScriptedRunner(() => Promise.resolve({ code: null, signal: 'SIGKILL', stderr: '' }));
    await expect(new TmpfsMounter({ runner: killed }).unmount('/t')).rejects.toMatchObject({
      reason: 'TmpfsUnmountFailed',
      message: 'umount /t failed: exit signal SIGKILL',
    });
  });

  it('keeps MountHelperExited as it is: the command may or may not have run', async () => {
    const lost = new SecretletError({ code: 'INTERNAL', reason: 'MountHelperExited', message: 'umount /t got no answer' });
    const mounter = new TmpfsMounter({ runner: new ScriptedRunner(() => Promise.reject(lost)) });
    await expect(mounter.unmount('/t')).rejects.toBe(lost);
  });

  it('close() leaves a runner it was given alone', async () => {
    const runner = new HelperProcessCommandRunner();
    try {
      await new TmpfsMounter({ runner }).close();
      expect(await runner.run('/bin/true', [])).toMatchObject({ code: 0 });
    } finally {
      await runner.close();
    }
  });
});

describe.each([
  ['the mount helper process', (): HelperProcessCommandRunner | DirectCommandRunner => new HelperProcessCommandRunner()],
  ['direct spawn', (): HelperProcessCommandRunner | DirectCommandRunner => new DirectCommandRunner()],
] as const)('TmpfsMounter through %s', (_name, makeRunner) => {
  it.skipIf(skip)(`mounts and unmounts a real tmpfs${because}`, async () => {
    const runner = makeRunner();
    const viaRunner = new TmpfsMounter({ runner });
    try {
      const target = await dirs.make('via runner');
      await ensureTargetDir(target);
      mounted.add(target);
      await viaRunner.mount(target, { sizeBytes: 64 * 1024 });
      expect(await viaRunner.isMountPoint(target)).toBe(true);
      await viaRunner.unmount(target);
      expect(await viaRunner.isMountPoint(target)).toBe(false);
    } finally {
      if (runner instanceof HelperProcessCommandRunner) await runner.close();
    }
  });
});

describe('TmpfsMounter.close', () => {
  it.skipIf(skip)(`ends the helper it started; a mount afterwards is refused${because}`, async () => {
    const own = new TmpfsMounter();
    const target = await dirs.make('closing');
    await ensureTargetDir(target);
    mounted.add(target);
    await own.mount(target, { sizeBytes: 64 * 1024 });
    await own.unmount(target);
    await own.close();
    await expect(own.mount(target, { sizeBytes: 64 * 1024 })).rejects.toMatchObject({ code: 'UNAVAILABLE', reason: 'MountHelperClosed' });
  });
});

/** TmpfsCalls that record what they were asked and answer from a script, as the helper would. */
class ScriptedCalls implements TmpfsCalls {
  readonly calls: unknown[] = [];
  constructor(private readonly answer: () => Promise<TmpfsCallResult>) {}
  mountTmpfs(target: string, options: { sizeBytes: number; mode: number }): Promise<TmpfsCallResult> {
    this.calls.push({ op: 'mountTmpfs', target, ...options });
    return this.answer();
  }
  unmount(target: string): Promise<TmpfsCallResult> {
    this.calls.push({ op: 'unmount', target });
    return this.answer();
  }
}

describe('TmpfsMounter error mapping (scripted syscalls)', () => {
  const answer = (result: TmpfsCallResult): (() => Promise<TmpfsCallResult>) => () => Promise.resolve(result);

  it('asks for the size and root mode, and the target as it is', async () => {
    const calls = new ScriptedCalls(answer({ ok: true, via: 'syscall' }));
    await new TmpfsMounter({ calls, rootMode: 0o755 }).mount('/t/my vol', { sizeBytes: 4096 });
    await new TmpfsMounter({ calls }).unmount('/t/my vol');
    expect(calls.calls).toEqual([
      { op: 'mountTmpfs', target: '/t/my vol', sizeBytes: 4096, mode: 0o755 },
      { op: 'unmount', target: '/t/my vol' },
    ]);
  });

  it('names the target, the options and the errno of a failed syscall', async () => {
    const calls = new ScriptedCalls(answer({ ok: false, via: 'syscall', errno: 'EPERM', message: 'Operation not permitted' }));
    const mounter = new TmpfsMounter({ calls });
    await expect(mounter.mount('/t', { sizeBytes: 1024 })).rejects.toMatchObject({
      code: 'INTERNAL',
      reason: 'TmpfsMountFailed',
      message: 'mount tmpfs at /t (size=1024,mode=0750) failed: EPERM (Operation not permitted)',
    });
    await expect(mounter.unmount('/t')).rejects.toMatchObject({
      code: 'INTERNAL',
      reason: 'TmpfsUnmountFailed',
      message: 'unmount tmpfs at /t failed: EPERM (Operation not permitted)',
    });
  });

  it('passes on what mount(8) said when the helper fell back to it (no errno known)', async () => {
    const failed = { ok: false, via: 'command', message: 'mount exit 32: mount: /t: permission denied.' } as const;
    await expect(new TmpfsMounter({ calls: new ScriptedCalls(answer(failed)) }).mount('/t', { sizeBytes: 1024 })).rejects.toMatchObject({
      code: 'INTERNAL',
      reason: 'TmpfsMountFailed',
      message: 'mount tmpfs at /t (size=1024,mode=0750) failed: mount exit 32: mount: /t: permission denied.',
    });
  });

  it('tells the operator once, with the reason, when the helper mounts with mount(8) instead of syscalls', async () => {
    const told: string[] = [];
    const calls = new ScriptedCalls(answer({ ok: true, via: 'command', fallbackReason: 'koffi: cannot load libc.so.6' }));
    const mounter = new TmpfsMounter({ calls, onFallback: (reason) => told.push(reason) });
    await mounter.mount('/t', { sizeBytes: 1024 });
    await mounter.unmount('/t');
    expect(told).toEqual(['koffi: cannot load libc.so.6']);
    const quiet: string[] = [];
    await new TmpfsMounter({ calls: new ScriptedCalls(answer({ ok: true, via: 'syscall' })), onFallback: (r) => quiet.push(r) }).mount('/t', { sizeBytes: 1024 });
    expect(quiet).toEqual([]);
  });

  it('keeps MountHelperExited as it is: the call may or may not have been made', async () => {
    const lost = new SecretletError({ code: 'INTERNAL', reason: 'MountHelperExited', message: 'unmount /t got no answer' });
    await expect(new TmpfsMounter({ calls: new ScriptedCalls(() => Promise.reject(lost)) }).unmount('/t')).rejects.toBe(lost);
  });

  it('refuses syscalls combined with a runner or commands, and a root mode that is not one', () => {
    const calls = new ScriptedCalls(answer({ ok: true, via: 'syscall' }));
    expect(() => new TmpfsMounter({ calls, runner: new DirectCommandRunner() })).toThrow(TypeError);
    expect(() => new TmpfsMounter({ calls, umountCommand: 'umount' })).toThrow(TypeError);
    expect(() => new TmpfsMounter({ rootMode: 0o17777 })).toThrow(TypeError);
  });

  it('close() leaves syscalls it was given alone', async () => {
    const helper = new HelperProcessCommandRunner();
    try {
      await new TmpfsMounter({ calls: helper }).close();
      expect(await helper.unmount(await dirs.make('missing'))).toMatchObject({ ok: false, errno: 'ENOENT' });
    } finally {
      await helper.close();
    }
  });
});

describe.each([
  ['forced with --commands', { tmpfsVia: 'command' }, /--commands/],
  ['because libc cannot be loaded', { libcPath: '/nonexistent/libc.so.6' }, /^mount\(2\) unavailable \(koffi, \/nonexistent\/libc\.so\.6\): /],
] as const)('TmpfsMounter through the helper falling back to mount(8)/umount(8), %s', (_name, helperOptions, why) => {
  it.skipIf(skip)(`mounts and unmounts a real tmpfs, and reports failures with the target and options${because}`, async () => {
    const helper = new HelperProcessCommandRunner(helperOptions);
    const viaCommands = new TmpfsMounter({ calls: helper, rootMode: 0o755 });
    try {
      const target = await dirs.make('fallback');
      await ensureTargetDir(target);
      mounted.add(target);
      await viaCommands.mount(target, { sizeBytes: 64 * 1024 });
      expect(await viaCommands.isMountPoint(target)).toBe(true);
      expect((await stat(target)).mode & 0o7777).toBe(0o755);
      await viaCommands.unmount(target);
      expect(await viaCommands.isMountPoint(target)).toBe(false);

      // mount(8)'s own words, not an errno: proof that the command ran, not the syscall.
      const missing = await dirs.make('missing');
      const err = await viaCommands.mount(missing, { sizeBytes: 4096 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INTERNAL', reason: 'TmpfsMountFailed' });
      expect((err as Error).message).toMatch(new RegExp(`^mount tmpfs at ${missing} \\(size=4096,mode=0755\\) failed: mount exit 32: .*does not exist`));
      expect(await helper.unmount(missing)).toMatchObject({ ok: false, via: 'command', fallbackReason: expect.stringMatching(why) });
    } finally {
      await helper.close();
    }
  });
});
