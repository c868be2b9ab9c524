/**
 * Rotation: every `intervalMs`, one cycle over the live mounts. Planning is pure
 * (core/rotation/rotation-plan.ts): one SecretSource.fetch per (identity, region) with the
 * de-duplicated unpinned objects of all that identity's mounts, so the batching fetcher turns a
 * whole node into a few BatchGetSecretValue / GetParameters calls. Only mounts whose content
 * changed are rewritten, each with the writer that created it (atomic: a reader sees all old or
 * all new files), and a MountUpdated is appended after the write; Secret sync follows from the log.
 *
 * A cycle that hits throttling keeps the old content and pushes the next cycle back
 * exponentially with jitter. Mounts replayed after a restart have no token in memory: they are
 * rotated again after kubelet's next republish hands one over (see rotation-live-mounts.ts), or,
 * with `--mint-tokens`, right away with a minted token (rotation-restored-mounts.ts).
 * A provider-door mount whose target directory is gone was unmounted by the driver (which never
 * tells the provider): the cycle records MountUnpublished for it. With rotation off (`intervalMs`
 * 0) a timer still runs that sweep alone every 2 minutes.
 *
 * Doors keep working while a cycle runs. A publish that replaced a mount (new plan or values) or
 * wrote its target since the cycle planned wins: the cycle neither writes nor records that mount
 * (`superseded`), checked under the target's lock when the writer has one (writeIfStillPlanned). A
 * mount unpublished meanwhile is never written: the kubelet door's writer refuses a target that is
 * no longer a mount point, under the lock its cleanup holds, and a provider-door rewrite needs the
 * directory (device, inode) the door wrote into, which the driver's unmount replaces.
 */
import { access } from 'node:fs/promises';
import { isGuardedWriter } from '../adapters/fs/locked-target-writer.js';
import { sameTargetDirectory } from '../adapters/fs/target-stamp.js';
import type { Logger } from '../adapters/logging/logger.js';
import type { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import { asSecretletError } from '../core/errors.js';
import type { StatusCode } from '../core/errors.js';
import { mountUpdatedEvent } from '../core/events/mount-events.js';
import type { NewEvent } from '../core/events/events.js';
import type { RenderedFile } from '../core/model.js';
import type { Clock } from '../core/ports/clock.js';
import type { SecretSource } from '../core/ports/secret-source.js';
import { planFailover, planRotation, settleRotation, wasThrottled } from '../core/rotation/rotation-plan.js';
import type { FetchOutcome, MountRotation, RotationMount, RotationPlan } from '../core/rotation/rotation-plan.js';
import type { EventJournal } from './event-journal.js';
import type { LiveMount, LiveMounts } from './rotation-live-mounts.js';
import type { RestoredMounts } from './rotation-restored-mounts.js';
import type { PublishingTargets } from './publishing-targets.js';
import { Slots } from './slots.js';

/** How often a FailedRotation Event for the same mount and reason is posted again while it lasts. */
const WARN_REPEAT_MS = 10 * 60_000;


/** What a rotation write did, with the target's stamp its writer took under the lock when it wrote. */
interface RotationWrite {
  status: 'written' | 'target-gone' | 'unwanted';
  stamp?: string;
}
export interface RotationReconcilerOptions {
  journal: EventJournal;
  live: LiveMounts;
  source: SecretSource;
  logger: Logger;
  metrics?: AgentMetrics;
  /**
   * 0 disables the rotation timer (cycles still run through `runCycle`); the provider-door sweep
   * then runs alone every `sweepIntervalMs`.
   */
  intervalMs: number;
  /** With rotation off, how often removed provider-door targets are forgotten. @default 120_000 */
  sweepIntervalMs?: number;
  /** Where a mount's Kubernetes Event goes when its rotation fails (best effort). */
  warn?: (pod: { namespace: string; name: string; uid: string }, reason: string, message: string) => Promise<unknown>;
  /** @default Math.random */
  random?: () => number;
  /** @default checks the path with fs.access */
  targetExists?: (path: string) => Promise<boolean>;
  /** With `--mint-tokens`: gives mounts replayed from the log a minted token before each cycle plans. */
  restored?: Pick<RestoredMounts, 'rejoin'>;
  /**
   * The SecretSource's clock and the target stamp (target-stamp.ts): with both, every mount a cycle
   * confirms is marked verified, which lets republishes within the interval skip their own read.
   */
  clock?: Pick<Clock, 'now'>;
  targetStamp?: (path: string) => string | undefined;
  /** Milliseconds on a monotonic clock, for the durations in metrics. @default performance.now */
  stopwatch?: () => number;
  /**
   * Rewrites in flight at once. With a worker pool each is a job in its bounded queue, which the
   * doors' mounts share; the agent keeps this well under the bound. @default no limit (inline
   * writes queue nowhere)
   */
  maxConcurrentWrites?: number;
  /** Targets a door call is publishing now: never rewritten meanwhile (publishing-targets.ts). */
  publishing?: Pick<PublishingTargets, 'has'>;
}

export interface RotationCycleReport {
  mounts: number;
  /** Mounts known from the log but without a token in memory (waiting for a republish). */
  waiting: number;
  /** Restored mounts that got a minted token in this cycle (`--mint-tokens`). */
  rejoined: string[];
  fetchCalls: number;
  rewritten: string[];
  failed: Array<{ mountKey: string; reason: string }>;
  unpublished: string[];
  /** Mounts a publish replaced while the cycle fetched: nothing written or recorded for them. */
  superseded: string[];
  throttled: boolean;
}

/** A live mount as the cycle planned it, and its target's stamp then (undefined without `targetStamp`). */
interface PlannedMount {
  mount: LiveMount;
  stamp: string | undefined;
}

const MAX_BACKOFF_FACTOR = 8;
/** The default rotation interval: how long a removed provider-door target is remembered at most. */
const DEFAULT_SWEEP_INTERVAL_MS = 120_000;
/** Mounts settled (compared, re-rendered) per event-loop turn. */
const SETTLE_PER_TURN = 16;

/**
 * settleRotation over all mounts at once is pure and synchronous: at 737 mounts with a changed
 * object each it held the event loop for one whole re-render of the node (rotation-phase event-loop
 * delay p99 40-70 ms in the density benchmark). The same work in slices lets timers, health probes
 * and door calls in between.
 */
async function settleInTurns(
  mounts: readonly RotationMount[],
  plan: RotationPlan,
  results: ReadonlyArray<readonly FetchOutcome[]>,
  failover: { plan: RotationPlan; results: ReadonlyArray<readonly FetchOutcome[]> } | undefined,
): Promise<MountRotation[]> {
  const outcomes: MountRotation[] = [];
  for (let i = 0; i < mounts.length; i += SETTLE_PER_TURN) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    outcomes.push(...settleRotation(mounts.slice(i, i + SETTLE_PER_TURN), plan, results, failover));
  }
  return outcomes;
}

export class RotationReconciler {
  private readonly options: RotationReconcilerOptions;
  private readonly random: () => number;
  private readonly targetExists: (path: string) => Promise<boolean>;
  private readonly stopwatch: () => number;
  private readonly writeSlots: Slots | undefined;
  /** Per mount, the reason of the last FailedRotation Event posted and when (stopwatch ms). */
  private readonly warned = new Map<string, { reason: string; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RotationCycleReport> | undefined;
  /** The sweep-only pass running now (rotation off), which stop() waits for as it waits for a cycle. */
  private sweeping: Promise<unknown> | undefined;
  private backoffLevel = 0;
  private stopped = true;

  constructor(options: RotationReconcilerOptions) {
    this.options = options;
    this.random = options.random ?? Math.random;
    this.targetExists = options.targetExists ?? ((p) => access(p).then(() => true, () => false));
    this.stopwatch = options.stopwatch ?? (() => performance.now());
    this.writeSlots = options.maxConcurrentWrites === undefined ? undefined : new Slots(options.maxConcurrentWrites);
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    await this.sweeping;
  }

  /** The cycle running now, if any. */
  get inFlight(): Promise<RotationCycleReport> | undefined {
    return this.running;
  }

  /** Runs one cycle now; a call while a cycle runs joins it. */
  runCycle(): Promise<RotationCycleReport> {
    this.running ??= this.cycle().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Time until the next cycle: the interval, or after a throttled cycle 2^n intervals (capped at 8)
   * scaled by a jitter in [0.5, 1) so a fleet of nodes does not retry in step.
   */
  nextDelayMs(): number {
    const { intervalMs } = this.options;
    if (this.backoffLevel === 0) return intervalMs;
    const factor = Math.min(2 ** this.backoffLevel, MAX_BACKOFF_FACTOR);
    return intervalMs * factor * (0.5 + this.random() / 2);
  }

  /**
   * Cycles start an interval apart, start to start: a cycle's own duration is taken off the wait
   * after it, so a secret rotated just after a cycle's read reaches its mounts within one interval
   * (plus that next cycle's read), not one interval plus a cycle.
   */
  private schedule(lastTookMs = 0): void {
    const { intervalMs } = this.options;
    if (this.stopped) return;
    if (intervalMs <= 0) {
      this.scheduleSweepOnly();
      return;
    }
    const delay = Math.max(0, this.nextDelayMs() - lastTookMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const started = this.stopwatch();
      this.runCycle()
        .catch((e: unknown) => this.options.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'rotation cycle failed'))
        .finally(() => this.schedule(this.stopwatch() - started));
    }, delay);
    this.timer.unref();
  }

  /**
   * With rotation off there are no cycles, but provider-door mounts still need forgetting once the
   * driver removed their directory (see sweepGoneTargets): without this, every pod ever mounted
   * would stay in the registry, the snapshot and, with its token and values, in memory.
   */
  private scheduleSweepOnly(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sweeping = this.sweepGoneTargets()
        .catch((e: unknown) => this.options.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'mount sweep failed'))
        .finally(() => {
          this.sweeping = undefined;
          this.schedule();
        });
    }, this.options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Mounts whose target directory is gone. On the provider door that is how an unmount shows:
   * nobody calls us, the directory is the truth. On the kubelet door an unpublish removes the
   * record, but a record can outlive its target: one written by a publish that finished after
   * kubelet had given up on it and unpublished (agents before 2026-12-08 let that happen), which
   * every cycle would otherwise read from AWS for a pod long gone. A target with a publish in
   * flight is left alone: that publish is creating it.
   */
  private async sweepGoneTargets(): Promise<string[]> {
    const { journal, live, publishing } = this.options;
    const unpublished: string[] = [];
    for (const entry of journal.state.mounts.values()) {
      if (publishing?.has(entry.targetPath) === true) continue;
      if (!(await this.targetExists(entry.targetPath))) {
        live.delete(entry.mountKey);
        await journal.record([{ type: 'MountUnpublished', payload: { mountKey: entry.mountKey } }]);
        unpublished.push(entry.mountKey);
      }
    }
    return unpublished;
  }

  private async cycle(): Promise<RotationCycleReport> {
    const { journal, live, logger, metrics } = this.options;
    const started = this.stopwatch();
    const report: RotationCycleReport = { mounts: 0, waiting: 0, rejoined: [], fetchCalls: 0, rewritten: [], failed: [], unpublished: [], superseded: [], throttled: false };
    report.unpublished.push(...(await this.sweepGoneTargets()));
    for (const mountKey of this.warned.keys()) if (!journal.state.mounts.has(mountKey)) this.warned.delete(mountKey);

    if (this.options.restored !== undefined) {
      report.rejoined = (await this.options.restored.rejoin(journal.state.mounts.values())).rejoined;
    }

    const mounts: LiveMount[] = [];
    // What each mount looked like when the cycle planned it: its outcome is about that mount only.
    const planned = new Map<string, PlannedMount>();
    for (const entry of journal.state.mounts.values()) {
      const runtime = live.get(entry.mountKey);
      if (runtime === undefined) {
        report.waiting += 1;
        continue;
      }
      mounts.push(runtime);
      // One stat per mount (microseconds on tmpfs), before any read: a door write during the cycle changes it.
      planned.set(runtime.mountKey, { mount: runtime, stamp: this.options.targetStamp?.(runtime.targetPath) });
    }
    report.mounts = mounts.length;
    // Before any read is sent: every value fetched below is at least as new as this.
    const fetchedAfter = this.options.clock?.now();
    const plan = planRotation(mounts);
    const fetching = this.stopwatch();
    const { results, startedAt } = await this.fetchAll(plan, report);
    // Objects that met a fault that falls over in the primary region: their mounts' failover regions, as a mount does.
    const second = planFailover(mounts, plan, results);
    const failover = second.groups.length === 0 ? undefined : { plan: second, results: (await this.fetchAll(second, report)).results };
    // A throttled failover region is throttling too: both rounds count.
    report.throttled = wasThrottled(results) || (failover !== undefined && wasThrottled(failover.results));
    this.backoffLevel = report.throttled ? this.backoffLevel + 1 : 0;

    const outcomes = await settleInTurns(mounts, plan, results, failover);
    /**
     * rotation_reconcile_* as upstream means them (driver.md §6.1): one per mount reconciled, changed
     * or not, timed per mount. A mount's reconcile starts when its identity group's fetch does (one
     * fetch serves all the group's mounts) and ends when it is verified or written; a mount with
     * only pinned objects fetches nothing and starts with the fetches.
     */
    const reconciled = (mountKey: string): void => {
      const group = plan.slots.get(mountKey)?.[0]?.group;
      const from = (group === undefined ? undefined : startedAt[group]) ?? fetching;
      metrics?.rotationReconciled('aws', (this.stopwatch() - from) / 1000);
    };
    await Promise.all(
      outcomes.map(async (outcome) => {
        const seen = planned.get(outcome.mountKey);
        if (seen === undefined || live.get(outcome.mountKey) === undefined) return; // unpublished meanwhile
        // A publish replaced the mount while the cycle fetched: the outcome is about a plan and
        // values that no longer exist. The publish read and wrote for itself; the next cycle starts
        // from what it left.
        if (!this.isStillPlanned(seen)) {
          report.superseded.push(outcome.mountKey);
          return;
        }
        if (outcome.status === 'unchanged') {
          this.warned.delete(outcome.mountKey);
          if (fetchedAfter !== undefined) live.verified(outcome.mountKey, fetchedAfter);
          reconciled(outcome.mountKey);
          return;
        }
        if (outcome.status === 'failed') {
          report.failed.push({ mountKey: outcome.mountKey, reason: outcome.error.reason });
          await this.recordFailure(outcome.mountKey, outcome.error.code, outcome.error.reason, outcome.error.message);
          return;
        }
        const runtime = seen.mount;
        try {
          const { status: written, stamp } = await this.writeIfStillPlanned(seen, outcome.files);
          if (written === 'target-gone') return; // unmounted meanwhile: MountUnpublished follows from the door
          // Re-checked after the write too: a publish whose write landed before ours and whose entry
          // came while we wrote (see writeIfStillPlanned) owns the entry; its values must not be overwritten.
          if (written === 'unwanted' || !this.isStillPlanned(seen)) {
            report.superseded.push(outcome.mountKey);
            return;
          }
          reconciled(outcome.mountKey);
          this.warned.delete(outcome.mountKey);
          live.updateValues(outcome.mountKey, outcome.values, outcome.versions);
          // The stamp the write left under the target's lock: read now, it could be a door write's since.
          if (fetchedAfter !== undefined) live.verified(outcome.mountKey, fetchedAfter, stamp ?? this.options.targetStamp?.(runtime.targetPath));
          const event: NewEvent = mountUpdatedEvent({
            mountKey: outcome.mountKey,
            plan: runtime.plan,
            versions: outcome.versions,
            files: outcome.files,
            cause: 'rotation',
            hasher: journal.hasher,
          });
          // The mount may have been unpublished while we wrote; the registry ignores late updates.
          await journal.record([event]);
          report.rewritten.push(outcome.mountKey);
          metrics?.rotationChangedObjects.inc(outcome.changedObjects.length);
        } catch (e) {
          const error = asSecretletError(e, { code: 'INTERNAL', reason: 'RotationWriteFailed' });
          report.failed.push({ mountKey: outcome.mountKey, reason: error.reason });
          await this.recordFailure(outcome.mountKey, error.code, error.reason, error.message);
        }
      }),
    );
    const seconds = (this.stopwatch() - started) / 1000;
    metrics?.rotationCycleDuration.observe(seconds);
    logger.info(
      { mounts: report.mounts, waiting: report.waiting, rejoined: report.rejoined.length, fetchCalls: report.fetchCalls, rewritten: report.rewritten.length, failed: report.failed.length, throttled: report.throttled, seconds },
      'rotation cycle',
    );
    return report;
  }

  /**
   * Whether the live entry still holds the plan, values and versions the cycle planned from.
   * Compared field by field, not by entry identity: a republish answered from memory hands its
   * token over (LiveMounts.handOver), which replaces the entry but keeps these objects, and must not
   * stop the cycle. Any publish that read sets new ones.
   */
  private isStillPlanned(seen: PlannedMount): boolean {
    const now = this.options.live.get(seen.mount.mountKey);
    const was = seen.mount;
    if (now === undefined || now.plan !== was.plan || now.values !== was.values || now.versions !== was.versions) return false;
    return now.targetPath === was.targetPath && now.writer === was.writer;
  }

  /**
   * Before a write, also: no door call is publishing the target now, and the target still has the
   * stamp it had when the cycle planned. Both catch a door write whose entry is not set yet (the
   * door sets it after the pod status and the log record, milliseconds to seconds later): the first
   * one that landed before the cycle planned, the second one that landed during the cycle.
   */
  private mayStillWrite(seen: PlannedMount): boolean {
    if (!this.isStillPlanned(seen)) return false;
    if (this.options.publishing?.has(seen.mount.targetPath) === true) return false;
    return seen.stamp === undefined || this.options.targetStamp?.(seen.mount.targetPath) === seen.stamp;
  }

  /**
   * The rewrite, as late as the writer allows the check: under the target's lock when the writer
   * has one (LockedTargetWriter: the kubelet door's, shared with the unpublish cleanup), so no
   * publish write or cleanup of that target runs between the check and the write. A writer without
   * one (the provider door's) is checked right before the call; a provider Mount arriving between
   * the two is ordered by that writer's own lock only, and the next cycle corrects what it left.
   * A publish whose write landed before the cycle planned is still in its door call until its entry
   * is set, so `publishing` turns the rewrite down; without it (tests that wire no doors) the re-check
   * after the write keeps that publish's entry intact.
   */
  private writeIfStillPlanned(seen: PlannedMount, files: readonly RenderedFile[]): Promise<RotationWrite> {
    // The slot first: the checks below must be as close to the write as they can be.
    const write = (): Promise<RotationWrite> => this.writeIfStillPlannedNow(seen, files);
    return this.writeSlots === undefined ? write() : this.writeSlots.run(write);
  }

  private async writeIfStillPlannedNow(seen: PlannedMount, files: readonly RenderedFile[]): Promise<RotationWrite> {
    const { writer, targetPath } = seen.mount;
    if (isGuardedWriter(writer)) {
      const result = await writer.writeIfWanted(targetPath, files, () => this.mayStillWrite(seen));
      return result.status === 'written' && result.outcome.stamp !== undefined ? { status: 'written', stamp: result.outcome.stamp } : { status: result.status };
    }
    if (!(await this.targetExists(targetPath))) return { status: 'target-gone' };
    // The provider door's target must still be the directory the door wrote into. Once the driver
    // unmounted its tmpfs the path shows the node's disk (another device and inode) until its rmdir:
    // files written there would stay on the disk, and the rmdir would fail with ENOTEMPTY.
    const recorded = seen.mount.targetStamp;
    if (recorded !== undefined && this.options.targetStamp !== undefined && !sameTargetDirectory(recorded, this.options.targetStamp(targetPath))) return { status: 'target-gone' };
    if (!this.mayStillWrite(seen)) return { status: 'unwanted' };
    // The write may wait for a pool thread; the writer checks the directory again when it starts.
    const outcome = await writer.write(targetPath, files, recorded === undefined ? undefined : { directory: recorded });
    if (outcome.skipped !== undefined) return { status: 'target-gone' };
    return outcome.stamp === undefined ? { status: 'written' } : { status: 'written', stamp: outcome.stamp };
  }

  /**
   * One SecretSource.fetch per group, all at once; a thrown failure counts for each of its requests.
   * `startedAt[g]`: when group g's fetch was called (stopwatch), where its mounts' reconciles start.
   */
  private async fetchAll(plan: RotationPlan, report: RotationCycleReport): Promise<{ results: FetchOutcome[][]; startedAt: number[] }> {
    const { source } = this.options;
    const startedAt: number[] = [];
    const results = await Promise.all(
      plan.groups.map(async (group, g) => {
        startedAt[g] = this.stopwatch();
        if (group.requests.length === 0) return [];
        report.fetchCalls += 1;
        try {
          // Fresh: a rotation cycle must not be answered from the (opt-in) value cache.
          return await source.fetch(group.identity, group.region, group.requests, { fresh: true });
        } catch (e) {
          const error = asSecretletError(e, { code: 'INTERNAL', reason: 'SourceFailed' });
          return group.requests.map((): FetchOutcome => ({ ok: false, error }));
        }
      }),
    );
    return { results, startedAt };
  }

  private async recordFailure(mountKey: string, code: StatusCode, reason: string, message: string): Promise<void> {
    const { journal, metrics, warn, logger } = this.options;
    const entry = journal.state.mounts.get(mountKey);
    if (entry === undefined) return;
    metrics?.rotationFailed('aws', reason);
    logger.warn({ mountKey, code, reason, error: message }, 'rotation kept the old content of a mount');
    // Remember the failure once per reason, not every cycle (the log must not grow while AWS is down).
    if (entry.lastFailure?.reason !== reason) {
      await journal.record([{ type: 'MountFailed', payload: { mountKey, pod: entry.pod, code, reason, message } }]).catch(() => undefined);
    }
    // The Event too: a new one per cycle would be hundreds of Event objects every interval on a
    // busy node while AWS denies. Again after WARN_REPEAT_MS while it lasts; at once for a new reason
    // or after the mount recovered (a cycle that read or wrote it clears the entry).
    const last = this.warned.get(mountKey);
    const now = this.stopwatch();
    if (last !== undefined && last.reason === reason && now - last.at < WARN_REPEAT_MS) return;
    this.warned.set(mountKey, { reason, at: now });
    await warn?.(entry.pod, 'FailedRotation', message);
  }
}
