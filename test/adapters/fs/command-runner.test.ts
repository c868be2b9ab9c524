/**
 * The CommandRunner contract, run against both runners (the helper process and direct spawn), and
 * the helper process's own promises: answers under concurrency, typed failure when the helper
 * dies, a fresh helper afterwards, close(), and no orphaned helper when the agent dies.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectCommandRunner, HelperProcessCommandRunner, STDERR_LIMIT } from '../../../src/adapters/fs/index.js';
import type { CommandRunner } from '../../../src/adapters/fs/index.js';
import { SecretletError } from '../../../src/core/errors.js';
import { tempDirs } from '../../support/temp-target.js';
import { spawnAgentScript } from './agent-script.js';
import { eventually, fifoGate, hasExited } from './command-runner-gates.js';
import type { FifoGate } from './command-runner-gates.js';

const dirs = tempDirs('secretlet-runner-');
const helpers: HelperProcessCommandRunner[] = [];
const gates: FifoGate[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const gate of gates.splice(0)) gate.release();
  await Promise.all(helpers.splice(0).map((h) => h.close()));
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await dirs.removeAll();
});

function helperRunner(): HelperProcessCommandRunner {
  const runner = new HelperProcessCommandRunner();
  helpers.push(runner);
  return runner;
}

async function gate(): Promise<FifoGate> {
  const g = fifoGate(await dirs.make());
  gates.push(g);
  return g;
}

describe.each([
  ['HelperProcessCommandRunner', helperRunner],
  ['DirectCommandRunner', (): CommandRunner => new DirectCommandRunner()],
] as const)('%s', (_name, makeRunner) => {
  it('reports a successful command as exit code 0', async () => {
    expect(await makeRunner().run('/bin/true', [])).toEqual({ code: 0, signal: null, stderr: '' });
  });

  it('reports a failing command with its exit code', async () => {
    expect(await makeRunner().run('/bin/false', [])).toEqual({ code: 1, signal: null, stderr: '' });
  });

  it("returns the command's stderr and passes arguments verbatim, without a shell", async () => {
    const result = await makeRunner().run('sh', ['-c', 'printf "%s" "$0" >&2; exit 3', 'a b;$(x)']);
    expect(result).toEqual({ code: 3, signal: null, stderr: 'a b;$(x)' });
  });

  it('reports a command killed by a signal', async () => {
    expect(await makeRunner().run('sh', ['-c', 'kill -TERM $$'])).toEqual({ code: null, signal: 'SIGTERM', stderr: '' });
  });

  it(`keeps at most ${STDERR_LIMIT} characters of stderr`, async () => {
    const result = await makeRunner().run('sh', ['-c', 'head -c 20000 /dev/zero | tr "\\0" x >&2; exit 1']);
    expect(result.stderr).toBe('x'.repeat(STDERR_LIMIT));
  });

  it('rejects a missing command with CommandNotStarted, naming it', async () => {
    const err = await makeRunner()
      .run('/nonexistent/mount', ['-t', 'tmpfs'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretletError);
    expect(err).toMatchObject({ code: 'INTERNAL', reason: 'CommandNotStarted' });
    expect((err as Error).message).toBe('/nonexistent/mount -t tmpfs failed: spawn /nonexistent/mount ENOENT');
  });

  it('answers many concurrent commands, each with its own result', async () => {
    const runner = makeRunner();
    const n = 64;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => runner.run('sh', ['-c', `printf ${i} >&2; exit ${i % 7}`])),
    );
    expect(results).toEqual(Array.from({ length: n }, (_, i) => ({ code: i % 7, signal: null, stderr: String(i) })));
  });
});

describe('HelperProcessCommandRunner lifecycle', () => {
  it('starts its helper on the first command and reuses it', async () => {
    const runner = helperRunner();
    expect(runner.pid).toBeUndefined();
    await runner.run('/bin/true', []);
    const pid = runner.pid;
    expect(pid).toBeTypeOf('number');
    await runner.run('/bin/true', []);
    expect(runner.pid).toBe(pid);
  });

  it('fails pending commands with MountHelperExited when the helper is killed, then starts a new one', async () => {
    const runner = helperRunner();
    const g = await gate();
    const pending = runner.run(g.command, g.args);
    const alsoPending = runner.run(g.command, g.args);
    await g.entered();
    const first = runner.pid!;

    process.kill(first, 'SIGKILL');

    for (const p of [pending, alsoPending]) {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SecretletError);
      expect(err).toMatchObject({ code: 'INTERNAL', reason: 'MountHelperExited' });
      expect((err as Error).message).toBe(`sh ${g.args.join(' ')} got no answer: the mount helper process ended (signal SIGKILL)`);
    }
    g.release(); // lets the orphaned `cat`s finish

    expect(await runner.run('/bin/true', [])).toMatchObject({ code: 0 });
    expect(runner.pid).not.toBe(first);
    expect(hasExited(first)).toBe(true);
  });

  it('close() lets commands already sent finish, ends the helper and refuses new commands', async () => {
    const runner = helperRunner();
    const g = await gate();
    const inFlight = runner.run(g.command, g.args);
    await g.entered();
    const pid = runner.pid!;

    const closed = runner.close();
    g.release();

    expect(await inFlight).toEqual({ code: 0, signal: null, stderr: '' });
    await closed;
    expect(hasExited(pid)).toBe(true);
    await expect(runner.run('/bin/true', [])).rejects.toMatchObject({ code: 'UNAVAILABLE', reason: 'MountHelperClosed' });
    await runner.close();
  });

  it('a second close() also resolves only once the helper has exited', async () => {
    const runner = helperRunner();
    const g = await gate();
    const inFlight = runner.run(g.command, g.args);
    await g.entered();
    const pid = runner.pid!;

    const first = runner.close();
    let secondDone = false;
    const second = runner.close().then(() => (secondDone = true));
    // The helper cannot exit while the gated command runs: nothing may report it closed yet.
    await new Promise((resolve) => setImmediate(resolve));
    expect(secondDone).toBe(false);

    g.release();
    await second;
    expect(hasExited(pid)).toBe(true);
    await first;
    await inFlight;
  });

  it('close() in the same turn as the commands sent before it still runs and answers them all', async () => {
    // Requests of one turn are written together; the close must not cut that write off.
    const runner = helperRunner();
    const sent = [runner.run('/bin/true', []), runner.run('/bin/false', []), runner.run('/bin/sh', ['-c', 'exit 3'])];
    const closed = runner.close();
    expect((await Promise.all(sent)).map((r) => r.code)).toEqual([0, 1, 3]);
    await closed;
  });

  it('close() before any command starts nothing', async () => {
    const runner = helperRunner();
    await runner.close();
    expect(runner.pid).toBeUndefined();
  });

  it('leaves no helper behind when the agent process dies', async () => {
    const agent = await agentScript([
      "await runner.run('/bin/true', []);",
      'process.stdout.write(`${runner.pid}\\n`);',
      'setInterval(() => undefined, 1000);',
    ]);
    await eventually('the agent reports its helper pid', () => agent.out().includes('\n') || agent.child.exitCode !== null);
    const helperPid = Number(agent.out().trim());
    expect(Number.isInteger(helperPid) && helperPid > 0).toBe(true);
    expect(hasExited(helperPid)).toBe(false);

    agent.child.kill('SIGKILL');
    await once(agent.child, 'close');

    await eventually('the helper has exited', () => hasExited(helperPid));
  });

  it('neither holds an idle agent open nor lets it exit before close() has finished', async () => {
    const agent = await agentScript([
      "const result = await runner.run('/bin/false', []);",
      'const pid = runner.pid;',
      'await runner.close();',
      'process.stdout.write(JSON.stringify({ code: result.code, pid }));',
      "await runner.run('/bin/true', []).catch((e) => process.stdout.write(` ${e.reason}`));",
      // Nothing else is left: the process must exit on its own with the helper unused.
      'const idle = new HelperProcessCommandRunner();',
      "await idle.run('/bin/true', []);",
    ]);
    const [code] = (await once(agent.child, 'close')) as [number | null];
    expect(code).toBe(0);
    const [json, reason] = agent.out().split(' ');
    const { code: exitCode, pid } = JSON.parse(json ?? '') as { code: number; pid: number };
    expect(exitCode).toBe(1);
    expect(reason).toBe('MountHelperClosed');
    expect(hasExited(pid)).toBe(true);
  });

  it('keeps the agent alive until close() has finished even when a command is still running at close()', async () => {
    // The command's answer arrives after close() began; it must not let the process exit early.
    const agent = await agentScript([
      "const answered = runner.run('sleep', ['0.3']).then((r) => process.stdout.write(`answered ${r.code} `));",
      'await runner.close();',
      'await answered;',
      "process.stdout.write('closed');",
    ]);
    const [code] = (await once(agent.child, 'close')) as [number | null];
    expect(code).toBe(0);
    expect(agent.out()).toBe('answered 0 closed');
  });
});

/** Runs `lines` in a separate Node process (an "agent") with `runner` already constructed. */
async function agentScript(lines: string[]): Promise<{ child: ChildProcess; out: () => string }> {
  const agent = await spawnAgentScript({ dir: await dirs.make(), lines });
  children.push(agent.child);
  return agent;
}
