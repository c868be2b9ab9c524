/**
 * One running mount helper process (mount-helper-process.ts) and the requests it owes answers to:
 * spawns it, writes requests as NDJSON to its stdin, matches replies from its stdout by id, fails
 * every pending request with `MountHelperExited` when it dies or its pipe breaks, and keeps the
 * agent alive only while a request is pending. HelperProcessCommandRunner (command-runner-helper.ts)
 * owns one at a time and starts a new one after a loss.
 *
 * Requests sent in one event-loop turn go to the helper in one pipe write: in a 737-pod burst a
 * write per request cost ~0.2 ms of the agent's CPU each (the syscall and the wake-up of the
 * helper), about 4 % of the burst. The helper answers each request as soon as it is done.
 *
 * A request may carry a deadline. The helper makes mount(2)/umount2(2) synchronously, so a call
 * stuck in the kernel (a hung filesystem under the target) would otherwise hold every later tmpfs
 * operation of the node behind it for as long as the kernel waits. When a deadline passes, the
 * connection is abandoned: marked dead (the next request starts a new helper), sent SIGKILL with
 * any mount(8)/umount(8) it started (it takes effect once the kernel call returns), and everything
 * it owed fails with MountHelperUnresponsive, so kubelet's retries reach a helper that can answer.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SecretletError } from '../../core/errors.js';
import type { StartTimer } from '../../core/ports/clock.js';
import type { HelperReply, HelperRequest } from './command-runner-protocol.js';

export interface Pending {
  /** What was asked, for the "got no answer" message (`umount /x`, `unmount tmpfs at /x`). */
  what: string;
  answer(reply: HelperReply): void;
  reject(err: unknown): void;
}

// Not unref'd: an owed answer keeps the agent alive anyway (the child is ref'd while one is pending).
const realDeadlineTimer: StartTimer = (ms, expired) => {
  const timer = setTimeout(expired, ms);
  return () => clearTimeout(timer);
};

/** Something that can be kept from (or allowed to keep) the event loop alive. */
interface Refable {
  ref?(): void;
  unref?(): void;
}

/**
 * The helper's entry next to this module: TypeScript under tsx/vitest (loaded with tsx, resolved
 * from here so the agent's cwd does not matter), the compiled .js with plain node.
 */
function helperEntry(): { file: string; execArgv: string[] } {
  const ts = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(ts ? './mount-helper-process.ts' : './mount-helper-process.js', import.meta.url));
  if (!ts) return { file, execArgv: [] };
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { file, execArgv: ['--import', tsx] };
}

/** One running helper process and the requests it owes answers to. */
export class HelperConnection {
  readonly child: ChildProcess;
  readonly pending = new Map<number, Pending>();
  /** Set once the helper is known to be gone: no new request may be sent to it. */
  dead = false;
  /** Settles once the process is gone and its pipes are closed (or it never started). */
  readonly closed: Promise<void>;
  #buffered = '';
  /** Cancels the deadline of each request that has one. */
  readonly #deadlines = new Map<number, () => void>();
  readonly #startDeadline: StartTimer;
  #onGone: () => void;
  #exitDetail = 'its pipe closed';
  /** Request lines not yet written: flushed once per loop turn (see the header). */
  #outbox: string[] = [];
  /** Set by end(): someone awaits `closed`, so the helper's handles stay ref'd. */
  #ending = false;

  constructor(options: { maxOldSpaceMiB: number; helperArgs: string[]; onGone: () => void; deadlineTimer?: StartTimer }) {
    this.#onGone = options.onGone;
    this.#startDeadline = options.deadlineTimer ?? realDeadlineTimer;
    const entry = helperEntry();
    const argv = [`--max-old-space-size=${options.maxOldSpaceMiB}`, ...entry.execArgv, entry.file, ...options.helperArgs];
    this.child = spawn(process.execPath, argv, {
      // The helper's own stderr goes to the agent's: it only writes there if it crashes.
      stdio: ['pipe', 'pipe', 'inherit'],
      // Its own process group, so abandoning it also stops the mount(8)/umount(8) it may be running
      // (#abandon). It still ends with its stdin, so it never outlives the agent.
      detached: true,
    });
    let markClosed!: () => void;
    this.closed = new Promise((resolve) => (markClosed = resolve));
    const { stdin, stdout } = this.child;
    stdout?.setEncoding('utf8');
    stdout?.on('data', (chunk: string) => this.#read(chunk));
    // A broken pipe shows up as EPIPE here; the close handler below fails what is pending.
    stdin?.on('error', () => this.#gone());
    this.child.on('error', (err) => {
      this.#exitDetail = err.message;
      this.#gone();
      this.#failPending();
      markClosed();
    });
    this.child.on('exit', (code, signal) => {
      this.#exitDetail = signal !== null ? `signal ${signal}` : `exit ${code}`;
      this.#gone();
    });
    // 'close' comes after stdout has been read to its end, so every answer the helper managed to
    // write has been delivered before the rest are failed.
    this.child.on('close', () => {
      this.#gone();
      this.#failPending();
      markClosed();
    });
    this.#setRef(false);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a request; with `deadlineMs`, the helper is abandoned if it has not answered by then. */
  send(request: HelperRequest, pending: Pending, deadlineMs?: number): void {
    this.pending.set(request.id, pending);
    if (this.pending.size === 1) this.#setRef(true);
    if (deadlineMs !== undefined) {
      this.#deadlines.set(request.id, this.#startDeadline(deadlineMs, () => this.#abandon(pending.what, deadlineMs)));
    }
    if (this.#outbox.push(`${JSON.stringify(request)}\n`) === 1) setImmediate(() => this.#flush());
  }

  /** Ends the helper's input; it exits once the commands it is running have finished. */
  end(): void {
    this.dead = true;
    // Whoever awaits the exit must be kept alive until it happens, whatever is answered meanwhile.
    this.#ending = true;
    this.#setRef(true);
    this.#flush();
    this.child.stdin?.end();
  }

  #flush(): void {
    if (this.#outbox.length === 0) return;
    const lines = this.#outbox.join('');
    this.#outbox = [];
    // Ended already (end() flushed first): a write now would only raise ERR_STREAM_WRITE_AFTER_END.
    const stdin = this.child.stdin;
    if (stdin !== null && !stdin.writableEnded) stdin.write(lines);
  }

  #gone(): void {
    if (this.dead) return;
    this.dead = true;
    this.#onGone();
  }

  #failPending(): void {
    this.#failAll((p) =>
      new SecretletError({
        code: 'INTERNAL',
        reason: 'MountHelperExited',
        message: `${p.what} got no answer: the mount helper process ended (${this.#exitDetail})`,
      }),
    );
  }

  /** A deadline passed: this helper is stuck; fail what it owes and let the next request start another. */
  #abandon(what: string, deadlineMs: number): void {
    this.#gone();
    this.#killGroup();
    this.#failAll((p) =>
      new SecretletError({
        code: 'DEADLINE_EXCEEDED',
        reason: 'MountHelperUnresponsive',
        message:
          p.what === what
            ? `${what} got no answer within ${deadlineMs} ms: the mount helper is stuck (a kernel call waiting on a hung filesystem?); it was stopped and a new one takes the next request`
            : `${p.what} got no answer: the mount helper was stopped because ${what} got none within ${deadlineMs} ms`,
      }),
    );
  }

  /**
   * SIGKILL to the helper and everything it started: a mount(8) left running after its call was
   * failed could still mount the volume behind kubelet's back, racing the rollback.
   */
  #killGroup(): void {
    const pid = this.child.pid;
    try {
      if (pid === undefined) throw new Error('never started');
      process.kill(-pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  #failAll(error: (p: Pending) => SecretletError): void {
    const owed = [...this.pending.values()];
    this.pending.clear();
    for (const cancel of this.#deadlines.values()) cancel();
    this.#deadlines.clear();
    this.#setRef(false);
    for (const p of owed) p.reject(error(p));
  }

  #read(chunk: string): void {
    this.#buffered += chunk;
    let newline = this.#buffered.indexOf('\n');
    while (newline >= 0) {
      const line = this.#buffered.slice(0, newline);
      this.#buffered = this.#buffered.slice(newline + 1);
      this.#answer(line);
      newline = this.#buffered.indexOf('\n');
    }
  }

  #answer(line: string): void {
    let reply: HelperReply;
    try {
      reply = JSON.parse(line) as HelperReply;
    } catch {
      return; // not ours; the request it might belong to fails when the helper goes
    }
    const p = this.pending.get(reply.id);
    if (p === undefined) return;
    this.pending.delete(reply.id);
    this.#deadlines.get(reply.id)?.();
    this.#deadlines.delete(reply.id);
    if (this.pending.size === 0) this.#setRef(false);
    p.answer(reply);
  }

  /**
   * Keeps the agent alive only while an answer is owed; an idle helper never holds it open. Once
   * ended, it stays ref'd until it has exited (the answers still owed must not undo that).
   */
  #setRef(on: boolean): void {
    if (!on && this.#ending) return;
    for (const handle of [this.child, this.child.stdin, this.child.stdout] as Refable[]) {
      if (on) handle?.ref?.();
      else handle?.unref?.();
    }
  }
}
