/**
 * Mounts the per-volume tmpfs of the kubelet door. By default through the mount helper process,
 * which calls mount(2)/umount2(2) itself (koffi): a mount(8) process per call cost ~2 ms of CPU,
 * seconds over a node's worth of pod volumes, against ~0.04 ms for the syscall. Where the helper
 * cannot load libc it runs mount(8)/umount(8) instead: the same error reasons here, with mount(8)'s
 * words where a syscall gives an errno name.
 *
 * A caller that passes its own CommandRunner or mount/umount commands gets the commands, as
 * kubelet's mount utilities run them, through that runner (tests, the density benchmark).
 *
 * Unlike the upstream driver (kernel defaults: half of RAM, mode 1777), the size is bounded per
 * volume, so a runaway payload cannot eat the node's memory, and the root mode is set explicitly.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { SecretletError } from '../../core/errors.js';
import type { CommandRunner } from './command-runner.js';
import { HelperProcessCommandRunner } from './command-runner-helper.js';
import type { TmpfsCallResult, TmpfsCalls } from './command-runner-helper.js';
import type { VolumeMounter } from './ports.js';
import { isNotFound } from './durable-io.js';
import { isListedMountPoint } from './mountinfo.js';

export interface TmpfsMounterOptions {
  /**
   * Mode of the tmpfs root directory.
   * @default 0o750
   */
  rootMode?: number;
  /** Setting it (or `umountCommand`) makes the mounter run commands instead of syscalls. */
  mountCommand?: string;
  /** Setting it (or `mountCommand`) makes the mounter run commands instead of syscalls. */
  umountCommand?: string;
  /** @default '/proc/self/mountinfo' */
  mountinfoPath?: string;
  /**
   * Runs `mount`/`umount` (default commands: `mount`, `umount`) instead of the syscalls. A runner
   * passed in is the caller's to close.
   */
  runner?: CommandRunner;
  /**
   * Performs the syscalls; one passed in is the caller's to close. Not with `runner` or commands.
   * @default a HelperProcessCommandRunner owned (and closed) by this mounter
   */
  calls?: TmpfsCalls;
  /**
   * Told (once) when the helper could not make the syscalls and ran mount(8)/umount(8) instead:
   * still correct, but each volume then costs ~25-50x the CPU, which operators should know.
   */
  onFallback?: (reason: string) => void;
}

export class TmpfsMounter implements VolumeMounter {
  private readonly rootMode: number;
  private readonly mountCommand: string;
  private readonly umountCommand: string;
  private readonly mountinfoPath: string;
  private readonly via: { kind: 'command'; runner: CommandRunner } | { kind: 'syscall'; calls: TmpfsCalls };
  /** The default helper, created (cheaply: it starts on first use) and closed by us. */
  private readonly ownedHelper: HelperProcessCommandRunner | undefined;
  private onFallback: ((reason: string) => void) | undefined;

  constructor(options: TmpfsMounterOptions = {}) {
    this.rootMode = options.rootMode ?? 0o750;
    if (!Number.isInteger(this.rootMode) || this.rootMode < 0 || this.rootMode > 0o7777) {
      throw new TypeError(`options.rootMode must be an integer from 0 to 0o7777, got ${this.rootMode}`);
    }
    this.mountCommand = options.mountCommand ?? 'mount';
    this.umountCommand = options.umountCommand ?? 'umount';
    this.mountinfoPath = options.mountinfoPath ?? '/proc/self/mountinfo';
    const commands = options.runner !== undefined || options.mountCommand !== undefined || options.umountCommand !== undefined;
    if (commands && options.calls !== undefined) {
      throw new TypeError('options.calls cannot be combined with options.runner, mountCommand or umountCommand');
    }
    let owned: HelperProcessCommandRunner | undefined;
    const helper = (): HelperProcessCommandRunner => (owned = new HelperProcessCommandRunner());
    this.via = commands ? { kind: 'command', runner: options.runner ?? helper() } : { kind: 'syscall', calls: options.calls ?? helper() };
    this.ownedHelper = owned;
    this.onFallback = options.onFallback;
  }

  /** Calls `onFallback` the first time a result says a command did the work. */
  private noteVia(result: TmpfsCallResult): void {
    if (result.via !== 'command' || this.onFallback === undefined) return;
    const tell = this.onFallback;
    this.onFallback = undefined;
    tell(result.fallbackReason ?? 'the helper ran mount(8)/umount(8)');
  }

  async mount(target: string, options: { sizeBytes: number }): Promise<void> {
    if (!Number.isSafeInteger(options.sizeBytes) || options.sizeBytes <= 0) {
      throw new TypeError(`options.sizeBytes must be a positive integer, got ${options.sizeBytes}`);
    }
    const mountOptions = `size=${options.sizeBytes},mode=${this.rootMode.toString(8).padStart(4, '0')}`;
    if (this.via.kind === 'command') {
      // nosuid,nodev as the syscall path sets them (libc-mount.ts SECRET_VOLUME_FLAGS).
      const args = ['-t', 'tmpfs', '-o', `nosuid,nodev,${mountOptions}`, 'tmpfs', target];
      await this.runCommand({ runner: this.via.runner, command: this.mountCommand, args, reason: 'TmpfsMountFailed' });
      return;
    }
    const result = await this.via.calls.mountTmpfs(target, { sizeBytes: options.sizeBytes, mode: this.rootMode });
    this.noteVia(result);
    if (!result.ok) throw callFailed(`mount tmpfs at ${target} (${mountOptions})`, result, 'TmpfsMountFailed');
  }

  async unmount(target: string): Promise<void> {
    if (this.via.kind === 'command') {
      await this.runCommand({ runner: this.via.runner, command: this.umountCommand, args: [target], reason: 'TmpfsUnmountFailed' });
      return;
    }
    const result = await this.via.calls.unmount(target);
    this.noteVia(result);
    if (!result.ok) throw callFailed(`unmount tmpfs at ${target}`, result, 'TmpfsUnmountFailed');
  }

  /**
   * A target on another device than its parent is a mount point (every tmpfs this mounter made is),
   * answered from two stats; reading mountinfo costs the kernel ~1-7 ms on a node with hundreds of
   * volumes and ran on every republish and cleanup. Same device (or a stat failing, e.g. a dead
   * mount): mountinfo decides, so a bind mount of the same filesystem is still found.
   */
  async isMountPoint(target: string): Promise<boolean> {
    // Synchronous on purpose: two metadata lookups in kubelet's local pods directory take
    // microseconds, while each async stat cost ~0.1 ms of main-thread time in the density profile.
    // A dead mount at the target answers ENOTCONN at once rather than blocking.
    try {
      // A missing target is not a mount point (the cold path of a first publish): answered without
      // an ENOENT error object, whose message and stack cost ~70 µs per first mount.
      const own = statSync(target, { throwIfNoEntry: false });
      if (own === undefined) return false;
      if (own.dev !== statSync(dirname(target)).dev) return true;
    } catch (err) {
      // Anything else, e.g. a dead mount answering ENOTCONN, is left to mountinfo's exact answer.
      if (isNotFound(err)) return false;
    }
    return isListedMountPoint(target, this.mountinfoPath);
  }

  /** Ends the mount helper process if this mounter started one; the agent calls it on stop. */
  async close(): Promise<void> {
    await this.ownedHelper?.close();
  }

  /**
   * Runs the command; a non-zero exit or a command that never started becomes `reason` with the
   * command, its arguments (paths and options, never file contents) and its stderr. A lost helper
   * keeps its own reason (MountHelperExited): the command may or may not have run.
   */
  private async runCommand(options: { runner: CommandRunner; command: string; args: string[]; reason: string }): Promise<void> {
    const { runner, command, args, reason } = options;
    const fail = (detail: string, cause?: unknown): SecretletError =>
      new SecretletError({
        code: 'INTERNAL',
        reason,
        message: `${command} ${args.join(' ')} failed: ${detail}`,
        ...(cause === undefined ? {} : { cause }),
      });
    let result;
    try {
      result = await runner.run(command, args);
    } catch (err) {
      if (err instanceof SecretletError && err.reason !== 'CommandNotStarted') throw err;
      if (err instanceof SecretletError) {
        throw new SecretletError({ code: 'INTERNAL', reason, message: err.message, cause: err.cause ?? err });
      }
      throw fail(err instanceof Error ? err.message : String(err), err);
    }
    if (result.code !== 0) throw fail(result.stderr.trim() || `exit ${result.code ?? `signal ${result.signal}`}`);
  }
}

/**
 * A failed syscall (or fallback command) as `reason`: what was asked, with the target and options
 * (never file contents), then the errno name and strerror's text, e.g.
 * `mount tmpfs at /x (size=1024,mode=0755) failed: EPERM (Operation not permitted)`.
 */
function callFailed(what: string, result: Extract<TmpfsCallResult, { ok: false }>, reason: string): SecretletError {
  const detail = result.errno === undefined ? result.message : `${result.errno} (${result.message})`;
  return new SecretletError({ code: 'INTERNAL', reason, message: `${what} failed: ${detail}` });
}
