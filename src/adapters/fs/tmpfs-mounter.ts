/**
 * Mounts the per-volume tmpfs of the kubelet door by running `mount`/`umount`, as kubelet's mount
 * utilities do, rather than calling mount(2) through a native addon: the binaries are on every node
 * image, handle option parsing and mtab, and their stderr says what went wrong.
 *
 * Unlike the upstream driver (kernel defaults: half of RAM, mode 1777), the size is bounded per
 * volume, so a runaway payload cannot eat the node's memory, and the root mode is set explicitly.
 */
import { spawn } from 'node:child_process';
import { SecretletError } from '../../core/errors.js';
import type { VolumeMounter } from './ports.js';
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
}

export class TmpfsMounter implements VolumeMounter {
  private readonly rootMode: number;
  private readonly mountCommand: string;
  private readonly umountCommand: string;
  private readonly mountinfoPath: string;

  constructor(options: TmpfsMounterOptions = {}) {
    this.rootMode = options.rootMode ?? 0o750;
    this.mountCommand = options.mountCommand ?? 'mount';
    this.umountCommand = options.umountCommand ?? 'umount';
    this.mountinfoPath = options.mountinfoPath ?? '/proc/self/mountinfo';
  }

  async mount(target: string, options: { sizeBytes: number }): Promise<void> {
    if (!Number.isSafeInteger(options.sizeBytes) || options.sizeBytes <= 0) {
      throw new TypeError(`options.sizeBytes must be a positive integer, got ${options.sizeBytes}`);
    }
    const mountOptions = `size=${options.sizeBytes},mode=${this.rootMode.toString(8).padStart(4, '0')}`;
    await run(this.mountCommand, ['-t', 'tmpfs', '-o', mountOptions, 'tmpfs', target], 'TmpfsMountFailed');
  }

  async unmount(target: string): Promise<void> {
    await run(this.umountCommand, [target], 'TmpfsUnmountFailed');
  }

  isMountPoint(target: string): Promise<boolean> {
    return isListedMountPoint(target, this.mountinfoPath);
  }
}

/** Runs a command without a shell (paths are arguments, never interpreted); rejects with its stderr. */
function run(command: string, args: string[], reason: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    const fail = (detail: string, cause?: unknown): void =>
      reject(
        new SecretletError({
          code: 'INTERNAL',
          reason,
          message: `${command} ${args.join(' ')} failed: ${detail}`,
          ...(cause === undefined ? {} : { cause }),
        }),
      );
    child.on('error', (err) => fail(err.message, err));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else fail(stderr.trim() || `exit ${code ?? `signal ${signal}`}`);
    });
  });
}
