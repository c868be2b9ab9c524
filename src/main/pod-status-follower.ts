/**
 * Keeps SecretProviderClassPodStatus `status.objects` true after rotation. The CSI door writes the
 * status on a first mount and on a republish that changed files; a rotation cycle rewrites mounts
 * without any door call, so without this the status would keep the versions of the first mount
 * (upstream updates it on every republish it does not skip, driver.md §5.1; the legacy rotation
 * reconciler updated it when versions moved, §5.2).
 *
 * It follows the event log: every MountUpdated of a kubelet-door mount whose versions moved
 * queues that mount (except a republish that changed the files: the door wrote that status
 * already, and a republish that only moved versions did not), and a small loop patches the status
 * off the cycle's path, at most `concurrency` calls at a time, after the rotation cycle in flight,
 * with the versions the mount's files show when the call is sent (`mountVersions`, jmesPath files
 * included; a mount updated twice is patched once). Failed patches are retried with backoff (at
 * most 30 s apart) for as long as the mount lives. After a restart every kubelet-door mount whose
 * objects changed since it was published is patched once more: a patch the crash cut off is not
 * lost (patching an already-current status changes nothing).
 */
import type { Logger } from '../adapters/logging/logger.js';
import type { LoggedObject } from '../core/events/events.js';
import { mountVersions } from '../core/events/mount-events.js';
import type { MountEntry } from '../core/events/mount-registry.js';
import { podStatusName } from '../core/ports/pod-status-store.js';
import type { PodStatusStore } from '../core/ports/pod-status-store.js';
import type { EventJournal } from './event-journal.js';

export interface PodStatusFollowerOptions {
  journal: EventJournal;
  store: Pick<PodStatusStore, 'setObjects'>;
  logger: Logger;
  /** Patches in flight at most. @default 4 */
  concurrency?: number;
  /**
   * Attempts per queued mount before it is given up (logged). @default Infinity: a status is
   * retried (every 30 s at most) for as long as its mount lives, as the driver's requeue does.
   */
  maxAttempts?: number;
  /** Delay before retry n (1-based). @default 500 ms × 2^(n-1), at most 30 s */
  retryDelayMs?: (attempt: number) => number;
  /**
   * Work that goes first (the rotation cycle in flight, if any): patches queued while it runs wait
   * for it, so a cycle's rewrites of every mount are not slowed by up to one API call per mount.
   */
  goesFirst?: () => Promise<unknown> | undefined;
}

const WARN_AT_ATTEMPT = 5;

export interface PodStatusFollowerReport {
  patched: number;
  /** Statuses that no longer exist (their pod is gone); not re-created. */
  missing: number;
  failed: number;
}

/** True when both lists hold the same ids with the same `field` (version, or content hash). */
function sameById(a: readonly LoggedObject[], b: readonly LoggedObject[], field: 'version' | 'hash'): boolean {
  if (a.length !== b.length) return false;
  const byId = new Map(a.map((o) => [o.id, o[field]]));
  return b.every((o) => byId.get(o.id) === o[field]);
}

export class PodStatusFollower {
  private readonly options: PodStatusFollowerOptions;
  private readonly queue = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private unsubscribe: (() => void) | undefined;
  private active = 0;
  /** Waiting for `goesFirst`. */
  private deferred = false;
  private idleWaiters: Array<() => void> = [];
  private stopped = true;
  readonly report: PodStatusFollowerReport = { patched: 0, missing: 0, failed: 0 };

  constructor(options: PodStatusFollowerOptions) {
    this.options = options;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const { journal } = this.options;
    for (const entry of journal.state.mounts.values()) {
      if (entry.door === 'csi' && entry.changedSeq > entry.publishedSeq) this.queue.add(entry.mountKey);
    }
    this.unsubscribe = journal.subscribe((record, before, after) => {
      // A mount that goes has no status left to retry: forget its failures now, not at its retry.
      if (record.type === 'MountUnpublished') this.attempts.delete(record.payload.mountKey);
      if (record.type !== 'MountUpdated') return;
      const key = record.payload.mountKey;
      const now = after.mounts.get(key);
      const was = before.mounts.get(key);
      if (now === undefined || now.door !== 'csi') return;
      if (was !== undefined && sameById(was.objects, now.objects, 'version')) return;
      // A republish that changed bytes went through the door, which wrote the status itself.
      if (record.payload.cause === 'republish' && (was === undefined || !sameById(was.objects, now.objects, 'hash'))) return;
      this.enqueue(key);
    });
    this.pump();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const done = this.idle();
    this.wakeIdleWaiters();
    await done;
  }

  /** Mounts whose last status patch failed and that wait for a retry (diagnostics and tests). */
  get retrying(): number {
    return this.attempts.size;
  }

  /** Resolves when nothing is queued or in flight (retries waiting on a timer do not count). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private wakeIdleWaiters(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private isIdle(): boolean {
    return this.active === 0 && (this.queue.size === 0 || this.stopped);
  }

  private enqueue(mountKey: string): void {
    this.attempts.delete(mountKey);
    this.queue.add(mountKey);
    this.pump();
  }

  private pump(): void {
    if (this.deferred) return;
    const first = this.options.goesFirst?.();
    if (first !== undefined && this.queue.size > 0) {
      this.deferred = true;
      void first
        .catch(() => undefined)
        .finally(() => {
          this.deferred = false;
          this.pump();
        });
      return;
    }
    const limit = this.options.concurrency ?? 4;
    while (!this.stopped && this.active < limit && this.queue.size > 0) {
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      this.active += 1;
      void this.patch(key).finally(() => {
        this.active -= 1;
        this.pump();
        this.wakeIdleWaiters();
      });
    }
  }

  private async patch(mountKey: string): Promise<void> {
    const { journal, store, logger } = this.options;
    const entry: MountEntry | undefined = journal.state.mounts.get(mountKey);
    // Neither case is retried, so its failure count goes too: kept, it would stay for the agent's life.
    if (entry === undefined || entry.door !== 'csi') {
      this.attempts.delete(mountKey); // unpublished meanwhile: the status goes with the pod
      return;
    }
    const name = podStatusName(entry.pod.name, entry.pod.namespace, entry.secretProviderClass);
    const versions = mountVersions(entry.objects);
    if (versions === undefined) {
      this.attempts.delete(mountKey); // logged by an older agent: its jmesPath files are unknown, leave the status as it is
      return;
    }
    try {
      const found = await store.setObjects(entry.pod.namespace, name, versions);
      this.attempts.delete(mountKey);
      if (found) this.report.patched += 1;
      else this.report.missing += 1;
    } catch (e) {
      const attempt = (this.attempts.get(mountKey) ?? 0) + 1;
      const message = e instanceof Error ? e.message : String(e);
      if (attempt >= (this.options.maxAttempts ?? Infinity)) {
        this.attempts.delete(mountKey);
        this.report.failed += 1;
        logger.warn({ mountKey, status: `${entry.pod.namespace}/${name}`, attempts: attempt, err: message }, 'gave up updating the objects of a pod status after rotation');
        return;
      }
      this.attempts.set(mountKey, attempt);
      const delay = this.options.retryDelayMs?.(attempt) ?? Math.min(500 * 2 ** (attempt - 1), 30_000);
      // One warning when it starts to look like an outage, debug lines otherwise (the log must not grow with it).
      const line = { mountKey, status: `${entry.pod.namespace}/${name}`, attempt, delayMs: delay, err: message };
      if (attempt === WARN_AT_ATTEMPT) logger.warn(line, 'pod status update keeps failing; retrying until it succeeds');
      else logger.debug(line, 'pod status update failed; will retry');
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.stopped) return;
        this.queue.add(mountKey);
        this.pump();
      }, delay);
      timer.unref();
      this.timers.add(timer);
    }
  }
}
