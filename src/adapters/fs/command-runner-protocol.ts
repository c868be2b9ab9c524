/**
 * The newline-delimited JSON spoken between the agent (HelperProcessCommandRunner) and the mount
 * helper process over the helper's stdin/stdout. One JSON object per line; JSON.stringify escapes
 * newlines inside strings, so a line is always exactly one message. Plain data only.
 *
 * Two kinds of request: a command to run (the original protocol, still used by callers that pass
 * their own mount/umount commands) and a typed tmpfs operation, which the helper performs with
 * mount(2)/umount2(2), or, where it cannot load libc through koffi, by running mount(8)/umount(8).
 */

/** Agent → helper: run `command` with `args`, no shell. */
export interface HelperCommandRequest {
  id: number;
  command: string;
  args: string[];
}

/** Agent → helper: `mount('tmpfs', target, 'tmpfs', 0, 'size=<sizeBytes>,mode=<mode in octal>')`. */
export interface HelperMountTmpfsRequest {
  id: number;
  op: 'mountTmpfs';
  target: string;
  /** A positive safe integer. */
  sizeBytes: number;
  /** Permission bits of the tmpfs root, 0 to 0o7777. */
  mode: number;
}

/** Agent → helper: `umount2(target, 0)`. */
export interface HelperUnmountRequest {
  id: number;
  op: 'unmount';
  target: string;
}

export type HelperRequest = HelperCommandRequest | HelperMountTmpfsRequest | HelperUnmountRequest;

/** Helper → agent: the command ran and ended this way. */
export interface HelperExitReply {
  id: number;
  code: number | null;
  signal: string | null;
  stderr: string;
}

/** Helper → agent: the command could not be started (spawn failed, e.g. ENOENT). */
export interface HelperSpawnErrorReply {
  id: number;
  spawnError: string;
}

/**
 * How the helper performs tmpfs operations: `syscall` through koffi, or `command` (mount(8) and
 * umount(8)) when koffi or libc could not be loaded, or when the helper was started with
 * `--commands`.
 */
export type MountVia = 'syscall' | 'command';

/** Helper → agent: the tmpfs operation succeeded. */
export interface HelperOpDoneReply {
  id: number;
  ok: true;
  via: MountVia;
  /** With `via: 'command'`: why the syscall path is not in use. */
  fallbackReason?: string;
}

/**
 * Helper → agent: the tmpfs operation failed. `errno` is the errno name (e.g. `EPERM`) whenever it
 * is known: always from a syscall, from a command only if it could not be started; `message` is
 * strerror's text, or what the command reported (its exit status and stderr).
 */
export interface HelperOpFailedReply {
  id: number;
  ok: false;
  via: MountVia;
  errno?: string;
  message: string;
  fallbackReason?: string;
}

export type HelperOpReply = HelperOpDoneReply | HelperOpFailedReply;

export type HelperReply = HelperExitReply | HelperSpawnErrorReply | HelperOpReply;
