/**
 * The mount helper's tmpfs operations: mount(2)/umount2(2) in the helper, never in the agent; koffi
 * loaded only when a tmpfs operation is asked for; answers by id under concurrency, mixed with
 * commands; malformed requests end the helper as before. Tests that really mount need
 * CAP_SYS_ADMIN and are skipped, saying why, without it; the others run unprivileged.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HelperProcessCommandRunner } from '../../../src/adapters/fs/command-runner-helper.js';
import { ManualTimers } from '../../support/manual-timers.js';
import { ensureTargetDir } from '../../../src/adapters/fs/index.js';
import { REPO_ROOT } from '../../support/paths.js';
import { mountCapability } from '../../support/privileges.js';
import { tempDirs } from '../../support/temp-target.js';
import { spawnAgentScript } from './agent-script.js';
import { eventually, fifoGate, hasExited } from './command-runner-gates.js';

const { capable, reason } = mountCapability();
const skip = !capable;
const because = skip ? ` (skipped: ${reason})` : '';
// A stand-in libc is compiled for the test of a call stuck in the kernel (.ci/run installs gcc).
const noCompiler = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status !== 0;
const noCompilerBecause = noCompiler ? ' (skipped: needs a C compiler, cc, to build the stand-in libc)' : '';

const dirs = tempDirs('secretlet-helper-tmpfs-');
const helpers: HelperProcessCommandRunner[] = [];
const children: ChildProcess[] = [];
const mounted: string[] = [];

afterEach(async () => {
  const cleanup = new HelperProcessCommandRunner();
  for (const target of mounted.splice(0)) await cleanup.unmount(target);
  await cleanup.close();
  await Promise.all(helpers.splice(0).map((h) => h.close()));
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await dirs.removeAll();
});

function helperRunner(options?: ConstructorParameters<typeof HelperProcessCommandRunner>[0]): HelperProcessCommandRunner {
  const runner = new HelperProcessCommandRunner(options);
  helpers.push(runner);
  return runner;
}

function mapsKoffi(pid: number | string): boolean {
  return /koffi[^\n]*\.node/.test(readFileSync(`/proc/${pid}/maps`, 'utf8'));
}

function mountinfoLine(target: string): string | undefined {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === target);
}

describe('HelperProcessCommandRunner tmpfs operations', () => {
  it.skipIf(skip)(`mounts and unmounts a tmpfs by syscall${because}`, async () => {
    const helper = helperRunner();
    const target = await dirs.make('vol');
    await ensureTargetDir(target);

    expect(await helper.mountTmpfs(target, { sizeBytes: 128 * 1024, mode: 0o700 })).toEqual({ ok: true, via: 'syscall' });
    mounted.push(target);
    expect(mountinfoLine(target)).toMatch(/ - tmpfs tmpfs .*size=128k,mode=700/);
    expect(mountinfoLine(target)?.split(' ')[5]?.split(',')).toEqual(expect.arrayContaining(['nosuid', 'nodev']));

    expect(await helper.unmount(target)).toEqual({ ok: true, via: 'syscall' });
    mounted.pop();
    expect(mountinfoLine(target)).toBeUndefined();
  });

  it('answers a failed syscall with the errno name and strerror text', async () => {
    const missing = await dirs.make('missing');
    expect(await helperRunner().unmount(missing)).toEqual({ ok: false, via: 'syscall', errno: 'ENOENT', message: 'No such file or directory' });
  });

  it('replaces a helper that stops answering (a kernel call stuck on a hung filesystem): what it owed fails, the next call works', async () => {
    // The deadlines expire only when the test says so: how long starting the helper (node, koffi)
    // takes on a busy machine does not matter.
    const deadlines = new ManualTimers();
    const helper = helperRunner({ tmpfsDeadlineMs: 2_000, deadlineTimer: deadlines.start });
    const missing = await dirs.make('missing');
    expect(await helper.unmount(missing)).toMatchObject({ ok: false, errno: 'ENOENT' });
    expect(deadlines.states()).toEqual([{ ms: 2_000, state: 'cancelled' }]);
    const stuck = helper.pid!;
    // A stopped process answers nothing, exactly like one blocked in mount(2) or umount2(2).
    process.kill(stuck, 'SIGSTOP');
    const owed = Promise.all([helper.unmount(`${missing}-a`).catch((e: unknown) => e), helper.unmount(`${missing}-b`).catch((e: unknown) => e)]);
    expect(deadlines.states().slice(1)).toEqual([
      { ms: 2_000, state: 'running' },
      { ms: 2_000, state: 'running' },
    ]);
    deadlines.started[1]!.expire();
    const [first, second] = await owed;
    expect(first).toMatchObject({ code: 'DEADLINE_EXCEEDED', reason: 'MountHelperUnresponsive' });
    expect((first as Error).message).toBe(`unmount ${missing}-a got no answer within 2000 ms: the mount helper is stuck (a kernel call waiting on a hung filesystem?); it was stopped and a new one takes the next request`);
    expect(second).toMatchObject({ code: 'DEADLINE_EXCEEDED', reason: 'MountHelperUnresponsive' });
    expect((second as Error).message).toBe(`unmount ${missing}-b got no answer: the mount helper was stopped because unmount ${missing}-a got none within 2000 ms`);
    // The other deadline of the abandoned helper was stopped with it.
    expect(deadlines.states().slice(1)).toEqual([
      { ms: 2_000, state: 'expired' },
      { ms: 2_000, state: 'cancelled' },
    ]);

    // A new helper answers the next call (in its own time: its deadline is the test's to expire).
    expect(await helper.unmount(missing)).toMatchObject({ ok: false, errno: 'ENOENT' });
    expect(helper.pid).not.toBe(stuck);
    expect(deadlines.states()).toHaveLength(4);
    expect(deadlines.states()[3]).toEqual({ ms: 2_000, state: 'cancelled' });
    // SIGKILL was sent to the stuck one; a stopped process dies of it at once.
    await expect.poll(() => hasExited(stuck), { timeout: 5_000 }).toBe(true);
  });

  it('refuses a target with a NUL byte (it would name another directory) without calling anything', async () => {
    const dir = await dirs.make();
    expect(await helperRunner().unmount(`${dir}\0/x`)).toMatchObject({ ok: false, via: 'syscall', errno: 'EINVAL' });
  });

  it.skipIf(noCompiler)(`answers a finished call at once while a later one of the same batch is stuck in the kernel${noCompilerBecause}`, async () => {
    // A stand-in libc whose calls on a "-stuck" target block until their gate FIFO is opened.
    const dir = await dirs.make();
    const libcPath = join(dir, 'blocking-libc.so');
    execFileSync('cc', ['-shared', '-fPIC', '-o', libcPath, join(REPO_ROOT, 'test/fixtures/native/blocking-libc.c')]);
    const stuckTarget = join(dir, 'vol-stuck');
    const gate = fifoGate(dir, 'vol-stuck.gate');
    const deadlines = new ManualTimers();
    const helper = helperRunner({ libcPath, tmpfsDeadlineMs: 2_000, deadlineTimer: deadlines.start });
    const missing = await dirs.make('missing');

    // Sent in one turn, so the helper reads both at once and runs them back to back.
    const quick = helper.unmount(missing);
    const stuck = helper.unmount(stuckTarget);
    try {
      await gate.entered();
      const withheld = new Promise((resolve) => setTimeout(() => resolve('withheld'), 10_000).unref());
      expect(await Promise.race([quick, withheld])).toMatchObject({ ok: false, via: 'syscall', errno: 'ENOENT' });
    } finally {
      // Let the stuck call go whatever happened, so the helper can be closed.
      gate.release();
    }
    expect(await stuck).toMatchObject({ ok: false, via: 'syscall', errno: 'ENOENT' });
    expect(deadlines.states().map((d) => d.state)).toEqual(['cancelled', 'cancelled']);
  });

  it('answers tmpfs operations and commands sent together, each by its own id', async () => {
    const helper = helperRunner();
    const missing = await dirs.make('missing');
    const n = 24;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        i % 2 === 0 ? helper.unmount(`${missing}-${i}`) : helper.run('sh', ['-c', `printf ${i} >&2; exit ${i % 5}`]),
      ),
    );
    expect(answers).toEqual(
      Array.from({ length: n }, (_, i) =>
        i % 2 === 0
          ? { ok: false, via: 'syscall', errno: 'ENOENT', message: 'No such file or directory' }
          : { code: i % 5, signal: null, stderr: String(i) },
      ),
    );
  });

  it('loads koffi in the helper only once a tmpfs operation is asked for, never in the agent', async () => {
    const agent = await agentScript([
      "await runner.run('/bin/true', []);",
      'const beforeTmpfs = maps(runner.pid);',
      `const result = await runner.unmount(${JSON.stringify(await dirs.make('missing'))});`,
      'process.stdout.write(JSON.stringify({ result, beforeTmpfs, helper: maps(runner.pid), agent: maps("self") }));',
      'await runner.close();',
    ]);
    await once(agent.child, 'close');
    expect(JSON.parse(agent.out())).toEqual({
      result: { ok: false, via: 'syscall', errno: 'ENOENT', message: 'No such file or directory' },
      beforeTmpfs: false,
      helper: true,
      agent: false,
    });
  });

  it('stops the commands of a helper it abandons (tmpfs via mount(8)/umount(8)): no mount lands after its call failed', async () => {
    // Stand-in mount(8)/umount(8) first on the helper's PATH: each records its pid; mount(8) then
    // runs for 30 s, umount(8) of a "-stuck" target blocks on a FIFO, as one on a hung filesystem.
    const dir = await dirs.make();
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'mount'), '#!/bin/sh\nfor t; do :; done\necho $$ > "$t.pid"\nexec sleep 30\n', { mode: 0o755 });
    writeFileSync(join(bin, 'umount'), '#!/bin/sh\necho $$ > "$1.pid"\nexec cat "$1.gate" >/dev/null\n', { mode: 0o755 });
    const stuckTarget = join(dir, 'vol-stuck');
    const gate = fifoGate(dir, 'vol-stuck.gate');
    const slowTarget = join(dir, 'vol-a');
    const deadlines = new ManualTimers();
    const path = process.env['PATH'];
    process.env['PATH'] = `${bin}:${path ?? ''}`;
    const pids: number[] = [];
    try {
      const helper = helperRunner({ tmpfsVia: 'command', tmpfsDeadlineMs: 2_000, deadlineTimer: deadlines.start });
      const stuck = helper.unmount(stuckTarget).catch((e: unknown) => e);
      const slow = helper.mountTmpfs(slowTarget, { sizeBytes: 4096, mode: 0o755 }).catch((e: unknown) => e);
      await gate.entered();
      for (const target of [stuckTarget, slowTarget]) {
        await eventually(`${target}.pid is written`, () => existsSync(`${target}.pid`) && readFileSync(`${target}.pid`, 'utf8').endsWith('\n'));
        pids.push(Number(readFileSync(`${target}.pid`, 'utf8')));
      }

      deadlines.started[0]!.expire();
      expect(await stuck).toMatchObject({ code: 'DEADLINE_EXCEEDED', reason: 'MountHelperUnresponsive' });
      expect(await slow).toMatchObject({ code: 'DEADLINE_EXCEEDED', reason: 'MountHelperUnresponsive' });
      // Both commands went with the helper, so the mount whose call failed can never land later.
      await expect.poll(() => pids.every(hasExited), { timeout: 10_000 }).toBe(true);
    } finally {
      process.env['PATH'] = path;
      gate.release();
      for (const pid of pids) if (!hasExited(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('started with tmpfsVia "command", runs umount(8) and never loads koffi', async () => {
    const helper = helperRunner({ tmpfsVia: 'command' });
    const result = await helper.unmount(await dirs.make('missing'));
    expect(result).toMatchObject({ ok: false, via: 'command', message: expect.stringMatching(/^umount exit \d+: umount: /) });
    expect(mapsKoffi(helper.pid!)).toBe(false);
  });

  it('fails a tmpfs operation the helper never answered with MountHelperExited, then starts a new helper', async () => {
    const helper = helperRunner();
    await helper.run('/bin/true', []);
    const first = helper.pid!;
    // Stopped, the helper cannot answer (no user code runs after kill() returns): the death below
    // surely comes first.
    process.kill(first, 'SIGSTOP');
    const pending = helper.unmount('/nonexistent/x');
    process.kill(first, 'SIGKILL');
    await expect(pending).rejects.toMatchObject({
      code: 'INTERNAL',
      reason: 'MountHelperExited',
      message: 'unmount /nonexistent/x got no answer: the mount helper process ended (signal SIGKILL)',
    });
    expect(await helper.unmount('/nonexistent/x')).toMatchObject({ ok: false, errno: 'ENOENT' });
    expect(helper.pid).not.toBe(first);
  });

  it('refuses tmpfs operations after close()', async () => {
    const helper = helperRunner();
    await helper.close();
    await expect(helper.unmount('/x')).rejects.toMatchObject({ code: 'UNAVAILABLE', reason: 'MountHelperClosed' });
  });

  it('rejects arguments the helper would take as a malformed request before sending them', async () => {
    const helper = helperRunner();
    await expect(helper.mountTmpfs('/x', { sizeBytes: 0, mode: 0o755 })).rejects.toThrow(TypeError);
    await expect(helper.mountTmpfs('/x', { sizeBytes: 1024, mode: 0o10000 })).rejects.toThrow(TypeError);
    await expect(helper.unmount('')).rejects.toThrow(TypeError);
    expect(helper.pid).toBeUndefined();
  });
});

describe('the mount helper process protocol', () => {
  it.each([
    ['a size that is not a positive integer', { id: 1, op: 'mountTmpfs', target: '/x', sizeBytes: -1, mode: 0o755 }],
    ['a mode beyond 07777', { id: 1, op: 'mountTmpfs', target: '/x', sizeBytes: 1024, mode: 0o10000 }],
    ['an empty target', { id: 1, op: 'unmount', target: '' }],
    ['an unknown op', { id: 1, op: 'remount', target: '/x' }],
    ['a missing id', { op: 'unmount', target: '/x' }],
  ])('ends itself (exit 2) on %s', async (_name, request) => {
    const helper = startHelper([]);
    helper.stdin!.end(`${JSON.stringify(request)}\n`);
    const [code] = (await once(helper, 'close')) as [number | null];
    expect(code).toBe(2);
  });

  it('refuses an unknown argument (exit 2)', async () => {
    const [code] = (await once(startHelper(['--bogus']), 'close')) as [number | null];
    expect(code).toBe(2);
  });

  it('answers a tmpfs request with one JSON line naming its id, then exits when its input ends', async () => {
    const helper = startHelper(['--commands']);
    let out = '';
    helper.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const missing = await dirs.make('missing');
    helper.stdin!.end(`${JSON.stringify({ id: 7, op: 'mountTmpfs', target: missing, sizeBytes: 4096, mode: 0o755 })}\n`);
    const [code] = (await once(helper, 'close')) as [number | null];
    expect(code).toBe(0);
    const reply = JSON.parse(out) as Record<string, unknown>;
    expect(reply).toMatchObject({ id: 7, ok: false, via: 'command', fallbackReason: 'the helper was started with --commands' });
    expect(out.endsWith('}\n')).toBe(true);
  });
});

function startHelper(args: string[]): ChildProcess {
  const file = join(REPO_ROOT, 'src/adapters/fs/mount-helper-process.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'ignore'] });
  children.push(child);
  return child;
}

/** Runs `lines` in a separate Node process (an "agent") with `runner` and `maps(pid)` defined. */
async function agentScript(lines: string[]): Promise<{ child: ChildProcess; out: () => string }> {
  const agent = await spawnAgentScript({
    dir: await dirs.make(),
    lines,
    prelude: [
      "import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';",
      // Whether the process has koffi's native library mapped (as mapsKoffi above).
      "const maps = (pid) => /koffi[^\\n]*\\.node/.test(readFileSync(`/proc/${pid}/maps`, 'utf8'));",
    ],
  });
  children.push(agent.child);
  return agent;
}

