/**
 * A VolumeMounter for tests and unprivileged development: "mounting" creates the directory and
 * records it, so the code around mounts (cleanup order, idempotency, error paths) can be exercised
 * without root. Failures can be injected per operation.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SecretletError } from '../../core/errors.js';
import type { VolumeMounter } from './ports.js';

export interface RecordedMountCall {
  op: 'mount' | 'unmount';
  target: string;
  sizeBytes?: number;
}

export class InMemoryVolumeMounter implements VolumeMounter {
  /** Every mount/unmount call in order, including failed ones. */
  readonly calls: RecordedMountCall[] = [];
  private readonly mounted = new Map<string, number>();
  private readonly failures = new Map<'mount' | 'unmount', string>();

  /** Makes the next call of `op` fail with INTERNAL and this message. */
  failNext(op: 'mount' | 'unmount', message: string): void {
    this.failures.set(op, message);
  }

  async mount(target: string, options: { sizeBytes: number }): Promise<void> {
    const key = resolve(target);
    this.calls.push({ op: 'mount', target: key, sizeBytes: options.sizeBytes });
    this.throwIfFailing('mount');
    await mkdir(key, { recursive: true });
    this.mounted.set(key, options.sizeBytes);
  }

  async unmount(target: string): Promise<void> {
    const key = resolve(target);
    this.calls.push({ op: 'unmount', target: key });
    this.throwIfFailing('unmount');
    if (!this.mounted.delete(key)) {
      throw new SecretletError({ code: 'INTERNAL', reason: 'TmpfsUnmountFailed', message: `${key}: not mounted` });
    }
  }

  async isMountPoint(target: string): Promise<boolean> {
    return this.mounted.has(resolve(target));
  }

  private throwIfFailing(op: 'mount' | 'unmount'): void {
    const message = this.failures.get(op);
    if (message === undefined) return;
    this.failures.delete(op);
    const reason = op === 'mount' ? 'TmpfsMountFailed' : 'TmpfsUnmountFailed';
    throw new SecretletError({ code: 'INTERNAL', reason, message });
  }
}
