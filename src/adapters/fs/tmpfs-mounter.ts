/**
 * Mounts the per-volume tmpfs of the kubelet door by running `mount`/`umount`, as kubelet's mount
 * utilities do, rather than calling mount(2) through a native addon: the binaries are on every node
 * image, handle option parsing and mtab, and their stderr says what went wrong.
 *
 * The commands run through a CommandRunner; by default a long-lived helper process, because
 * spawning from the agent itself forks the whole (large) agent on its event loop for every mount.
 *
 * Unlike the upstream driver (kernel defaults: half of RAM, mode 1777), the size is bounded per
 * volume, so a runaway payload cannot eat the node's memory, and the root mode is set explicitly.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { SecretletError } from '../../core/errors.js';
import type { CommandRunner } from './command-runner.js';
import { HelperProcessCommandRunner } from './command-runner-helper.js';
import type { VolumeMounter } from './ports.js';
import { isNotFound } from './durable-io.js';
import { isListedMountPoint } from './mountinfo.js';

export interface TmpfsMounterOptions {
  /**
   * Mode of the tmpfs root directory.
   * @default 0o750
   */
  rootMode?: number;
  /** @default 'mount' */
  mountCommand?: string;
  /** @default 'umount' */
  umountCommand?: string;
  /** @default '/proc/self/mountinfo' */
  mountinfoPath?: string;
  /**
   * Runs `mount`/`umount`. A runner passed in is the caller's to close.
   * @default a HelperProcessCommandRunner owned (and closed) by this mounter
   */
  runner?: CommandRunner;
}

export class TmpfsMounter implements VolumeMounter {
  private readonly rootMode: number;
  private readonly mountCommand: string;
  private readonly umountCommand: string;
  private readonly mountinfoPath: string;
  private readonly runner: CommandRunner;
  /** The default runner, created (cheaply: the helper starts on first use) and closed by us. */
  private readonly ownedRunner: HelperProcessCommandRunner | undefined;

  constructor(options: TmpfsMounterOptions = {}) {
    this.rootMode = options.rootMode ?? 0o750;
    this.mountCommand = options.mountCommand ?? 'mount';
    this.umountCommand = options.umountCommand ?? 'umount';
    this.mountinfoPath = options.mountinfoPath ?? '/proc/self/mountinfo';
    if (options.runner !== undefined) {
      this.runner = options.runner;
      this.ownedRunner = undefined;
    } else {
      this.ownedRunner = new HelperProcessCommandRunner();
      this.runner = this.ownedRunner;
    }
  }

  async mount(target: string, options: { sizeBytes: number }): Promise<void> {
    if (!Number.isSafeInteger(options.sizeBytes) || options.sizeBytes <= 0) {
      throw new TypeError(`options.sizeBytes must be a positive integer, got ${options.sizeBytes}`);
    }
    const mountOptions = `size=${options.sizeBytes},mode=${this.rootMode.toString(8).padStart(4, '0')}`;
    await this.run(this.mountCommand, ['-t', 'tmpfs', '-o', mountOptions, 'tmpfs', target], 'TmpfsMountFailed');
  }

  async unmount(target: string): Promise<void> {
    await this.run(this.umountCommand, [target], 'TmpfsUnmountFailed');
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
      if (statSync(target).dev !== statSync(dirname(target)).dev) return true;
    } catch (err) {
      // A missing target is not a mount point (the cold path of a first publish); anything else,
      // e.g. a dead mount answering ENOTCONN, is left to mountinfo's exact answer.
      if (isNotFound(err)) return false;
    }
    return isListedMountPoint(target, this.mountinfoPath);
  }

  /** Ends the mount helper process if this mounter started one; the agent calls it on stop. */
  async close(): Promise<void> {
    await this.ownedRunner?.close();
  }

  /**
   * Runs the command; a non-zero exit or a command that never started becomes `reason` with the
   * command, its arguments (paths and options, never file contents) and its stderr. A lost helper
   * keeps its own reason (MountHelperExited): the command may or may not have run.
   */
  private async run(command: string, args: string[], reason: string): Promise<void> {
    const fail = (detail: string, cause?: unknown): SecretletError =>
      new SecretletError({
        code: 'INTERNAL',
        reason,
        message: `${command} ${args.join(' ')} failed: ${detail}`,
        ...(cause === undefined ? {} : { cause }),
      });
    let result;
    try {
      result = await this.runner.run(command, args);
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
