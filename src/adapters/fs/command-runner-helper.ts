/**
 * Runs commands through one long-lived helper process (mount-helper-process.ts) instead of
 * spawning them from the agent. Why: libuv forks the calling process and blocks its event loop
 * until the child has exec'd; for a ~250 MiB agent that is ~4.6 ms of main-thread time per mount,
 * seconds over a burst of hundreds of pod volumes. The helper is ~40 MiB and forks on its own loop.
 *
 * The helper starts lazily on the first command. If it dies or its pipe breaks, every command it
 * still owed an answer fails with reason `MountHelperExited` and the next command starts a new
 * helper. It does not keep the agent alive while idle (child and pipes are unref'd between
 * commands); `close()` ends it, and it also exits by itself when the agent dies (stdin EOF).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SecretletError } from '../../core/errors.js';
import type { CommandResult, CommandRunner } from './command-runner.js';
import { commandNotStarted } from './command-runner.js';
import type { HelperReply, HelperRequest } from './command-runner-protocol.js';

export interface HelperProcessCommandRunnerOptions {
  /**
   * V8 old-space limit of the helper in MiB; it holds a few pending requests, nothing more.
   * @default 32
   */
  maxOldSpaceMiB?: number;
}

interface Pending {
  command: string;
  args: readonly string[];
  resolve(result: CommandResult): void;
  reject(err: unknown): void;
}

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
class HelperConnection {
  readonly child: ChildProcess;
  readonly pending = new Map<number, Pending>();
  /** Set once the helper is known to be gone: no new request may be sent to it. */
  dead = false;
  /** Settles once the process is gone and its pipes are closed (or it never started). */
  readonly closed: Promise<void>;
  #buffered = '';
  #onGone: () => void;
  #exitDetail = 'its pipe closed';

  constructor(options: { maxOldSpaceMiB: number; onGone: () => void }) {
    this.#onGone = options.onGone;
    const entry = helperEntry();
    this.child = spawn(process.execPath, [`--max-old-space-size=${options.maxOldSpaceMiB}`, ...entry.execArgv, entry.file], {
      // The helper's own stderr goes to the agent's: it only writes there if it crashes.
      stdio: ['pipe', 'pipe', 'inherit'],
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

  send(id: number, request: Pending): void {
    this.pending.set(id, request);
    if (this.pending.size === 1) this.#setRef(true);
    const line: HelperRequest = { id, command: request.command, args: [...request.args] };
    this.child.stdin?.write(`${JSON.stringify(line)}\n`);
  }

  /** Ends the helper's input; it exits once the commands it is running have finished. */
  end(): void {
    this.dead = true;
    // Whoever awaits the exit must be kept alive until it happens.
    this.#setRef(true);
    this.child.stdin?.end();
  }

  #gone(): void {
    if (this.dead) return;
    this.dead = true;
    this.#onGone();
  }

  #failPending(): void {
    const owed = [...this.pending.values()];
    this.pending.clear();
    this.#setRef(false);
    for (const p of owed) {
      p.reject(
        new SecretletError({
          code: 'INTERNAL',
          reason: 'MountHelperExited',
          message: `${p.command} ${p.args.join(' ')} got no answer: the mount helper process ended (${this.#exitDetail})`,
        }),
      );
    }
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
    if (this.pending.size === 0) this.#setRef(false);
    if ('spawnError' in reply) p.reject(commandNotStarted(p.command, p.args, reply.spawnError));
    else p.resolve({ code: reply.code, signal: reply.signal, stderr: reply.stderr });
  }

  /** Keeps the agent alive only while an answer is owed; an idle helper never holds it open. */
  #setRef(on: boolean): void {
    for (const handle of [this.child, this.child.stdin, this.child.stdout] as Refable[]) {
      if (on) handle?.ref?.();
      else handle?.unref?.();
    }
  }
}

export class HelperProcessCommandRunner implements CommandRunner {
  readonly #maxOldSpaceMiB: number;
  #helper: HelperConnection | undefined;
  #nextId = 1;
  #closed = false;

  constructor(options: HelperProcessCommandRunnerOptions = {}) {
    const mib = options.maxOldSpaceMiB ?? 32;
    if (!Number.isInteger(mib) || mib < 8) throw new TypeError(`options.maxOldSpaceMiB must be an integer >= 8, got ${mib}`);
    this.#maxOldSpaceMiB = mib;
  }

  /** The running helper's pid, if one is running (tests use it to kill the helper). */
  get pid(): number | undefined {
    return this.#helper?.pid;
  }

  run(command: string, args: readonly string[]): Promise<CommandResult> {
    if (this.#closed) {
      return Promise.reject(
        new SecretletError({ code: 'UNAVAILABLE', reason: 'MountHelperClosed', message: `${command} ${args.join(' ')} not run: the mount helper is closed` }),
      );
    }
    return new Promise((resolve, reject) => this.#started().send(this.#nextId++, { command, args, resolve, reject }));
  }

  /**
   * Ends the helper: no new commands are accepted, commands already sent still get their answers,
   * and this resolves once the helper has exited. Safe to call more than once.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const helper = this.#helper;
    this.#helper = undefined;
    if (helper === undefined) return;
    helper.end();
    await helper.closed;
  }

  #started(): HelperConnection {
    if (this.#helper === undefined || this.#helper.dead) {
      const helper: HelperConnection = new HelperConnection({
        maxOldSpaceMiB: this.#maxOldSpaceMiB,
        onGone: () => {
          if (this.#helper === helper) this.#helper = undefined;
        },
      });
      this.#helper = helper;
    }
    return this.#helper;
  }
}
