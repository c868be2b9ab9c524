/**
 * The mount helper process: a tiny, long-lived Node process the agent starts once and sends tmpfs
 * mount/unmount requests (and, for callers with their own commands, command requests) to; see
 * command-runner-helper.ts. It performs tmpfs operations with mount(2)/umount2(2) through koffi
 * (libc-mount.ts): ~0.04 ms each instead of ~2 ms of CPU for a mount(8) process.
 *
 * Dependencies: node built-ins, the protocol types, and koffi, imported lazily on the first tmpfs
 * request, so a helper that only runs commands starts as fast and small as before and the agent
 * itself never loads the native addon. If koffi or libc cannot be loaded (no prebuilt binary for
 * the platform, no glibc), the helper still serves: it performs tmpfs operations by spawning
 * mount(8)/umount(8) as it always did, and says so in each reply (`via: 'command'`). Forking this
 * ~40 MiB process is far cheaper than forking the agent, and blocks this event loop, not the agent's.
 *
 * Arguments: `--commands` forces the mount(8)/umount(8) path; `--libc=<path>` names the library to
 * load (default libc.so.6). Anything else is refused (exit 2).
 *
 * Lifetime: it lives exactly as long as its stdin is open. When the agent closes it (or dies and
 * the kernel closes the pipe), the helper lets requests already running finish, answers them if it
 * still can, and exits; it is never orphaned. It ignores SIGINT/SIGTERM sent to the whole process
 * group (Ctrl-C, an init that forwards signals to the group) because the agent, while it drains,
 * may still need it to unmount volumes; its stdin closing is what ends it.
 */
import { spawn } from 'node:child_process';
import type { HelperCommandRequest, HelperOpReply, HelperReply, HelperRequest, MountVia } from './command-runner-protocol.js';
import type { LibcMount, SyscallOutcome } from './libc-mount.js';
import { loadLibcMount } from './libc-mount.js';

/** Mirrors STDERR_LIMIT of command-runner.ts (not imported: that module pulls in the agent's errors). */
const STDERR_LIMIT = 4096;

/** How a spawned command ended, or why it never started (with the spawn error's code, e.g. ENOENT). */
type CommandOutcome = { code: number | null; signal: string | null; stderr: string } | { spawnError: string; errno?: string };

/** How tmpfs operations are performed, decided once, on the first one. */
type Mounts = { via: 'syscall'; libc: LibcMount } | { via: 'command'; reason: string };

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function isRequest(value: unknown): value is HelperRequest {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (typeof r['id'] !== 'number') return false;
  if (!('op' in r)) return isString(r['command']) && Array.isArray(r['args']) && r['args'].every(isString);
  if (!isString(r['target']) || r['target'] === '') return false;
  if (r['op'] === 'unmount') return true;
  const { sizeBytes, mode } = r;
  return (
    r['op'] === 'mountTmpfs' &&
    Number.isSafeInteger(sizeBytes) &&
    (sizeBytes as number) > 0 &&
    Number.isInteger(mode) &&
    (mode as number) >= 0 &&
    (mode as number) <= 0o7777
  );
}

/** Spawns a command (no shell) and reports how it ended, keeping the start of its stderr. */
function runCommand(command: string, args: string[], done: (outcome: CommandOutcome) => void): void {
  let settled = false;
  const finish = (outcome: CommandOutcome): void => {
    if (settled) return;
    settled = true;
    done(outcome);
  };
  let child;
  try {
    child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    // spawn throws synchronously only for invalid arguments (e.g. a NUL byte in a path).
    finish({ spawnError: err instanceof Error ? err.message : String(err) });
    return;
  }
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < STDERR_LIMIT) stderr = (stderr + chunk).slice(0, STDERR_LIMIT);
  });
  child.on('error', (err: NodeJS.ErrnoException) => finish({ spawnError: err.message, ...(isString(err.code) ? { errno: err.code } : {}) }));
  child.on('close', (code, signal) => finish({ code, signal, stderr }));
}

/** A tmpfs operation as mount(8)/umount(8) would run it, and its outcome as an operation reply. */
function runAsCommand(request: Exclude<HelperRequest, HelperCommandRequest>, reason: string, reply: (r: HelperOpReply) => void): void {
  const [command, args] =
    request.op === 'mountTmpfs'
      ? ['mount', ['-t', 'tmpfs', '-o', `nosuid,nodev,${tmpfsData(request.sizeBytes, request.mode)}`, 'tmpfs', request.target]]
      : ['umount', [request.target]];
  const base = { id: request.id, via: 'command' as MountVia, fallbackReason: reason };
  runCommand(command, args, (outcome) => {
    if ('spawnError' in outcome) {
      const { spawnError, errno } = outcome;
      reply({ ...base, ok: false, ...(errno === undefined ? {} : { errno }), message: spawnError });
    } else if (outcome.code === 0) {
      reply({ ...base, ok: true });
    } else {
      const status = outcome.code !== null ? `exit ${outcome.code}` : `signal ${outcome.signal}`;
      reply({ ...base, ok: false, message: `${command} ${status}${outcome.stderr.trim() ? `: ${outcome.stderr.trim()}` : ''}` });
    }
  });
}

function tmpfsData(sizeBytes: number, mode: number): string {
  return `size=${sizeBytes},mode=${mode.toString(8).padStart(4, '0')}`;
}

function parseArgs(argv: string[]): { commands: boolean; libcPath: string } {
  let commands = false;
  let libcPath = 'libc.so.6';
  for (const arg of argv) {
    if (arg === '--commands') commands = true;
    else if (arg.startsWith('--libc=') && arg.length > '--libc='.length) libcPath = arg.slice('--libc='.length);
    else {
      process.stderr.write(`mount helper: unknown argument ${JSON.stringify(arg)}\n`);
      process.exit(2);
    }
  }
  return { commands, libcPath };
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  let running = 0;
  let inputEnded = false;
  let mounts: Promise<Mounts> | undefined;

  const exitWhenIdle = (): void => {
    if (inputEnded && running === 0) process.exit(0);
  };
  // Each reply is written as soon as it is made, never held for the rest of a batch: the syscalls
  // of one batch run back to back, and one stuck in the kernel would hold back the answers of those
  // that already finished until their deadlines failed them.
  const send = (reply: HelperReply): void => {
    process.stdout.write(`${JSON.stringify(reply)}\n`);
    running -= 1;
    exitWhenIdle();
  };
  const loadMounts = (): Promise<Mounts> => {
    if (options.commands) return Promise.resolve({ via: 'command', reason: 'the helper was started with --commands' });
    return loadLibcMount(options.libcPath).then(
      (libc): Mounts => ({ via: 'syscall', libc }),
      (err: unknown): Mounts => ({ via: 'command', reason: `mount(2) unavailable (koffi, ${options.libcPath}): ${err instanceof Error ? err.message : String(err)}` }),
    );
  };

  const handle = (request: HelperRequest): void => {
    running += 1;
    if (!('op' in request)) {
      runCommand(request.command, request.args, (outcome) =>
        send('spawnError' in outcome ? { id: request.id, spawnError: outcome.spawnError } : { id: request.id, ...outcome }),
      );
      return;
    }
    mounts ??= loadMounts();
    // Requests may be answered out of order (the first waits for koffi to load): each carries its id.
    void mounts.then((m) => {
      if (m.via === 'command') return runAsCommand(request, m.reason, send);
      let outcome: SyscallOutcome;
      try {
        outcome = request.op === 'mountTmpfs' ? m.libc.mountTmpfs(request.target, tmpfsData(request.sizeBytes, request.mode)) : m.libc.unmount(request.target);
      } catch (err) {
        // koffi refused the call (not the kernel: no errno): answer it rather than crash with others in flight.
        return send({ id: request.id, via: 'syscall', ok: false, message: `koffi: ${err instanceof Error ? err.message : String(err)}` });
      }
      send({ id: request.id, via: 'syscall', ...outcome });
    });
  };

  const handleLine = (line: string): void => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      process.exit(2); // the agent never sends this: the pipe is not ours, so stop
    }
    if (!isRequest(parsed)) process.exit(2);
    handle(parsed);
  };

  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);
  // The agent gone (EPIPE) means no one reads the answers: stop.
  process.stdout.on('error', () => process.exit(0));
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      handleLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  });
  const inputGone = (): void => {
    inputEnded = true;
    exitWhenIdle();
  };
  process.stdin.on('end', inputGone);
  process.stdin.on('error', inputGone);
}

main();
