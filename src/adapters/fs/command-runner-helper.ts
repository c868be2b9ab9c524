/**
 * Talks to one long-lived helper process (mount-helper-process.ts) that mounts and unmounts tmpfs
 * volumes, and runs commands, for the agent. Why not in the agent: spawning mount(8) from the agent
 * makes libuv fork the calling process and block its event loop until the child has exec'd; for a
 * ~250 MiB agent that is ~4.6 ms of main-thread time per mount. The helper is ~40 MiB and does this
 * on its own loop; for tmpfs operations it calls mount(2)/umount2(2) itself (koffi, loaded only
 * there), and spawns mount(8)/umount(8) only when it cannot load libc (the reply says which).
 *
 * The helper starts lazily on the first request. If it dies or its pipe breaks, every request it
 * still owed an answer fails with reason `MountHelperExited` and the next request starts a new
 * helper. A tmpfs operation unanswered for `tmpfsDeadlineMs` (30 s) means the helper is stuck in a
 * kernel call: what it owed fails with `MountHelperUnresponsive` (DEADLINE_EXCEEDED) and the next
 * request starts a new helper (helper-connection.ts). It does not keep the agent alive while idle
 * (child and pipes are unref'd between requests); `close()` ends it, and it also exits by itself
 * when the agent dies (stdin EOF).
 */
import { SecretletError } from '../../core/errors.js';
import type { StartTimer } from '../../core/ports/clock.js';
import type { CommandResult, CommandRunner } from './command-runner.js';
import { commandNotStarted } from './command-runner.js';
import { HelperConnection } from './helper-connection.js';
import type {
  HelperMountTmpfsRequest,
  HelperOpReply,
  HelperReply,
  HelperRequest,
  HelperUnmountRequest,
  MountVia,
} from './command-runner-protocol.js';

export interface HelperProcessCommandRunnerOptions {
  /**
   * V8 old-space limit of the helper in MiB; it holds a few pending requests, nothing more.
   * @default 32
   */
  maxOldSpaceMiB?: number;
  /**
   * How long a tmpfs mount or unmount may go unanswered before the helper counts as stuck and is
   * replaced (HelperConnection). The calls take well under a millisecond on kubelet's local
   * directories; this only ends a call the kernel holds on a hung filesystem, below kubelet's own
   * 2-minute deadline for the RPC so its retry finds a working helper. Commands run asynchronously in
   * the helper and have no deadline here. @default 30_000
   */
  tmpfsDeadlineMs?: number;
  /** Starts the deadline of one tmpfs operation (tests expire it when they choose). @default setTimeout */
  deadlineTimer?: StartTimer;
  /**
   * How the helper performs tmpfs operations: by syscall when it can load libc (falling back to
   * the commands when it cannot), or always with mount(8)/umount(8).
   * @default 'syscall'
   */
  tmpfsVia?: MountVia;
  /**
   * The C library the helper loads for the syscalls; a missing one makes it fall back (tests).
   * @default 'libc.so.6'
   */
  libcPath?: string;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * How a tmpfs operation ended: `ok`, or the errno name (whenever known) and message; `via` says
 * whether a syscall or a command did it, and `fallbackReason` why not a syscall.
 */
export type TmpfsCallResult = DistributiveOmit<HelperOpReply, 'id'>;

/**
 * Mounts and unmounts tmpfs volumes as mount(2)/umount2(2) do. A failed call resolves with its
 * errno; only a lost, stuck or closed helper rejects (reasons `MountHelperExited`,
 * `MountHelperUnresponsive`, `MountHelperClosed`).
 */
export interface TmpfsCalls {
  /** `mount('tmpfs', target, 'tmpfs', 0, 'size=<sizeBytes>,mode=<mode in octal>')`. */
  mountTmpfs(target: string, options: { sizeBytes: number; mode: number }): Promise<TmpfsCallResult>;
  /** `umount2(target, 0)`. */
  unmount(target: string): Promise<TmpfsCallResult>;
}

/** A reply of the wrong kind for its request: a helper of another version, or a bug. */
function unexpectedReply(what: string): SecretletError {
  return new SecretletError({ code: 'INTERNAL', reason: 'MountHelperBadReply', message: `${what}: the mount helper answered with a reply of another kind` });
}

/**
 * The agent's side of the mount helper: tmpfs operations (TmpfsCalls, the default path of
 * TmpfsMounter) and arbitrary commands (CommandRunner, for callers that bring their own).
 */
export class HelperProcessCommandRunner implements CommandRunner, TmpfsCalls {
  readonly #maxOldSpaceMiB: number;
  readonly #helperArgs: string[];
  readonly #tmpfsDeadlineMs: number;
  readonly #deadlineTimer: StartTimer | undefined;
  #helper: HelperConnection | undefined;
  #nextId = 1;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: HelperProcessCommandRunnerOptions = {}) {
    const mib = options.maxOldSpaceMiB ?? 32;
    if (!Number.isInteger(mib) || mib < 8) throw new TypeError(`options.maxOldSpaceMiB must be an integer >= 8, got ${mib}`);
    this.#maxOldSpaceMiB = mib;
    const deadline = options.tmpfsDeadlineMs ?? 30_000;
    if (!Number.isInteger(deadline) || deadline <= 0) throw new TypeError(`options.tmpfsDeadlineMs must be a positive integer, got ${deadline}`);
    this.#tmpfsDeadlineMs = deadline;
    this.#deadlineTimer = options.deadlineTimer;
    const via = options.tmpfsVia ?? 'syscall';
    if (via !== 'syscall' && via !== 'command') throw new TypeError(`options.tmpfsVia must be 'syscall' or 'command', got ${String(via)}`);
    if (options.libcPath === '') throw new TypeError('options.libcPath must not be empty');
    this.#helperArgs = [
      ...(via === 'command' ? ['--commands'] : []),
      ...(options.libcPath === undefined ? [] : [`--libc=${options.libcPath}`]),
    ];
  }

  /** The running helper's pid, if one is running (tests use it to kill the helper). */
  get pid(): number | undefined {
    return this.#helper?.pid;
  }

  run(command: string, args: readonly string[]): Promise<CommandResult> {
    const what = `${command} ${args.join(' ')}`;
    return this.#request(what, { command, args: [...args] }, (reply, resolve, reject) => {
      if ('spawnError' in reply) reject(commandNotStarted(command, args, reply.spawnError));
      else if ('code' in reply) resolve({ code: reply.code, signal: reply.signal, stderr: reply.stderr });
      else reject(unexpectedReply(what));
    });
  }

  mountTmpfs(target: string, options: { sizeBytes: number; mode: number }): Promise<TmpfsCallResult> {
    const { sizeBytes, mode } = options;
    // Checked here: the helper ends itself on a request it finds malformed.
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) return Promise.reject(new TypeError(`options.sizeBytes must be a positive integer, got ${sizeBytes}`));
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) return Promise.reject(new TypeError(`options.mode must be an integer from 0 to 0o7777, got ${mode}`));
    return this.#tmpfsOp(`mount tmpfs at ${target}`, { op: 'mountTmpfs', target, sizeBytes, mode });
  }

  unmount(target: string): Promise<TmpfsCallResult> {
    return this.#tmpfsOp(`unmount ${target}`, { op: 'unmount', target });
  }

  /**
   * Ends the helper: no new requests are accepted, requests already sent still get their answers,
   * and this resolves once the helper has exited. Safe to call more than once.
   */
  close(): Promise<void> {
    // A second call waits for the same exit rather than resolving while the helper still runs.
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    const helper = this.#helper;
    this.#helper = undefined;
    if (helper === undefined) return;
    helper.end();
    await helper.closed;
  }

  #tmpfsOp(what: string, request: DistributiveOmit<HelperMountTmpfsRequest | HelperUnmountRequest, 'id'>): Promise<TmpfsCallResult> {
    // The helper treats an empty target as a malformed request, which ends it.
    if (request.target === '') return Promise.reject(new TypeError('target must not be empty'));
    return this.#request(
      what,
      request,
      (reply, resolve, reject) => {
        if (!('ok' in reply)) return reject(unexpectedReply(what));
        const { id: _id, ...result } = reply;
        resolve(result);
      },
      this.#tmpfsDeadlineMs,
    );
  }

  #request<T>(
    what: string,
    body: DistributiveOmit<HelperRequest, 'id'>,
    answer: (reply: HelperReply, resolve: (value: T) => void, reject: (err: unknown) => void) => void,
    deadlineMs?: number,
  ): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new SecretletError({ code: 'UNAVAILABLE', reason: 'MountHelperClosed', message: `${what} not run: the mount helper is closed` }));
    }
    return new Promise<T>((resolve, reject) => {
      const request = { ...body, id: this.#nextId++ } as HelperRequest;
      this.#started().send(request, { what, reject, answer: (reply) => answer(reply, resolve, reject) }, deadlineMs);
    });
  }

  #started(): HelperConnection {
    if (this.#helper === undefined || this.#helper.dead) {
      const helper: HelperConnection = new HelperConnection({
        maxOldSpaceMiB: this.#maxOldSpaceMiB,
        helperArgs: this.#helperArgs,
        ...(this.#deadlineTimer === undefined ? {} : { deadlineTimer: this.#deadlineTimer }),
        onGone: () => {
          if (this.#helper === helper) this.#helper = undefined;
        },
      });
      this.#helper = helper;
    }
    return this.#helper;
  }
}
