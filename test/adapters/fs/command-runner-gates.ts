/**
 * Gates for command-runner tests: a FIFO a command blocks on (`cat fifo`) until the test lets it
 * go, so "a request is in flight" is a fact, not a timing guess; and polling helpers with generous
 * deadlines for "this process has exited".
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DEADLINE_MS = 30_000;

/** Polls `check` until it holds; fails with `what` after a generous deadline (robust under load). */
export async function eventually(what: string, check: () => boolean): Promise<void> {
  const until = Date.now() + DEADLINE_MS;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether a process is gone (no /proc entry, or a zombie waiting for a parent that does not reap). */
export function hasExited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export interface FifoGate {
  /** `sh -c 'cat "$0" >/dev/null' <fifo>`: blocks until released. */
  command: string;
  args: string[];
  /** Resolves once the command is running and blocked on the gate. */
  entered(): Promise<void>;
  /** Lets the command finish (exit 0). Safe to call whether or not it ever started. */
  release(): void;
}

export function fifoGate(dir: string, name = 'gate'): FifoGate {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  let writer: number | undefined;
  const tryOpen = (): boolean => {
    if (writer !== undefined) return true;
    try {
      // Succeeds only once a reader has the FIFO open; holding it open keeps `cat` blocked.
      writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      return true;
    } catch {
      return false;
    }
  };
  return {
    command: 'sh',
    args: ['-c', 'cat "$0" >/dev/null', path],
    entered: () => eventually(`a command has opened ${name}`, tryOpen),
    release() {
      if (writer !== undefined) closeSync(writer);
      writer = undefined;
    },
  };
}
