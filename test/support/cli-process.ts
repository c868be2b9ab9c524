/**
 * A `secretlet` CLI run as a child process, as a DaemonSet or a user runs it: its stdout collected
 * line by line (the agent logs JSON lines there), stderr drained, and its end awaited. Also the
 * polling wait the tests of such processes share.
 */
import { spawn } from 'node:child_process';

export interface CliProcess {
  /** Complete stdout lines so far (empty lines dropped). */
  readonly lines: string[];
  /** Resolves on 'close' — after stdout was read to the end, so the last line is in `lines`. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly pid: number;
  /** SIGKILL unless it has already exited; resolves when it has. For cleanup after a failed test. */
  kill(): Promise<void>;
}

/** Starts `node <nodeArgs> <args>` in `cwd`, with this process's environment unless given one. */
export function startCliProcess(nodeArgs: string[], args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): CliProcess {
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l !== ''));
  });
  child.stderr.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return {
    lines,
    exited,
    pid: child.pid!,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Polls `check` every 25 ms until it returns a value; throws naming `what` after `deadlineMs`. */
export async function until<T>(check: () => T | undefined, what: string, deadlineMs = 60_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
