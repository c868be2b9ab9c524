/**
 * The agent's side of the event log: opens it in the state directory (FileEventLog + the node's
 * HmacHasher), rebuilds the projections by replay, keeps them current as records are appended,
 * tells subscribers (Secret sync) about every applied record, compacts every N records so the log
 * stays bounded, and closes the log on stop.
 *
 * Ordering: FileEventLog hands out seqs in call order, but concurrent `record` calls may resolve in
 * any order; records are applied strictly in seq order through a small reorder buffer, so the
 * in-memory state always equals "snapshot + replay" of what is durable.
 */
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FileEventLog } from '../adapters/eventlog/file-event-log.js';
import type { FsyncPolicy } from '../adapters/eventlog/file-event-log.js';
import type { OpenReport } from '../adapters/eventlog/log-recovery.js';
import { HmacHasher } from '../adapters/eventlog/hmac-hasher.js';
import { StateDirLock } from '../adapters/eventlog/state-dir-lock.js';
import type { Logger } from '../adapters/logging/logger.js';
import type { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import type { LoggedEvent, NewEvent } from '../core/events/events.js';
import { applyEvent, emptyState } from '../core/events/projections.js';
import type { ProjectedState } from '../core/events/projections.js';
import type { ContentHasher, EventLog } from '../core/ports/event-log.js';
import { SecretletError, invalidArgument } from '../core/errors.js';
import { listDamagedSets, setAsideDamagedState } from './damaged-state.js';

/** Called after each record is applied, with the state before and after it. */
export type RecordSubscriber = (record: LoggedEvent, before: ProjectedState, after: ProjectedState) => void;

export interface EventJournalOptions {
  log: EventLog;
  hasher: ContentHasher;
  logger: Logger;
  metrics?: AgentMetrics;
  /** Compact after this many records since the last snapshot; 0 disables. @default 10_000 */
  compactEvery?: number;
  /** Directory whose file sizes feed the eventLogBytes gauge (FileEventLog's dir). */
  logDir?: string;
}

export interface OpenJournalOptions {
  stateDir: string;
  fsync: FsyncPolicy;
  logger: Logger;
  metrics?: AgentMetrics;
  compactEvery?: number;
  /** When a damaged log is set aside (names its directory). @default the wall clock */
  now?: () => Date;
}

export class EventJournal {
  readonly hasher: ContentHasher;
  /** What opening had to repair (a cut torn tail is reported here and logged). */
  openReport: OpenReport | undefined;
  private readonly log: EventLog;
  private readonly logger: Logger;
  private readonly metrics: AgentMetrics | undefined;
  private readonly compactEvery: number;
  private readonly logDir: string | undefined;
  /** The state dir's lock, held from open to close (set by `open`; tests building a journal on a fake log have none). */
  private lock: StateDirLock | undefined;
  private current: ProjectedState = emptyState();
  private readonly early = new Map<number, LoggedEvent>();
  private readonly subscribers: RecordSubscriber[] = [];
  private sinceCompaction = 0;
  private compacting: Promise<void> | undefined;
  private closed = false;
  #failure: SecretletError | undefined;

  constructor(options: EventJournalOptions) {
    this.log = options.log;
    this.hasher = options.hasher;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.compactEvery = options.compactEvery ?? 10_000;
    this.logDir = options.logDir;
    if (this.metrics !== undefined && this.logDir !== undefined) this.metrics.measureEventLogBytes = () => this.logBytes();
  }

  /**
   * Opens `<stateDir>/eventlog` and `<stateDir>/node-hash.key`, replays, reports what was repaired.
   * A log or key that fails its checks (DATA_LOSS) is set aside and the agent starts empty; see
   * damaged-state.ts for why that beats refusing to start.
   */
  static async open(options: OpenJournalOptions): Promise<EventJournal> {
    await mkdir(options.stateDir, { recursive: true, mode: 0o700 }).catch((e: unknown) => {
      const code = (e as { code?: unknown }).code;
      throw invalidArgument('InvalidOption', `options.stateDir: cannot create ${options.stateDir}: ${typeof code === 'string' ? code : String(e)}`, 'stateDir');
    });
    // mkdir's mode applies only to a directory it creates: a hostPath kubelet made (DirectoryOrCreate:
    // 0755) would let every user of the node list the log's files. Its files are 0600 either way.
    if (((await stat(options.stateDir)).mode & 0o077) !== 0) await chmod(options.stateDir, 0o700);
    // Before anything reads, repairs or sets aside the log: another live agent may be writing it.
    const lock = await StateDirLock.acquire(options.stateDir);
    try {
      let journal: EventJournal;
      try {
        journal = await EventJournal.openIn(options);
      } catch (err) {
        if (!(err instanceof SecretletError && err.code === 'DATA_LOSS')) throw err;
        const aside = await setAsideDamagedState(options.stateDir, options.now?.() ?? new Date());
        options.logger.error(
          { code: err.code, reason: err.reason, err: err.message, setAside: aside.dir, moved: aside.moved, removedOlder: aside.removed },
          'event log damaged: set aside, starting with an empty one; mounts are recorded again as kubelet republishes them (kubelet door) or the driver calls Mount (provider door)',
        );
        journal = await EventJournal.openIn(options);
      }
      journal.lock = lock;
      options.metrics?.damagedStateSets.set((await listDamagedSets(options.stateDir)).length);
      return journal;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  private static async openIn(options: OpenJournalOptions): Promise<EventJournal> {
    const hasher = await HmacHasher.open({ dir: options.stateDir });
    const logDir = join(options.stateDir, 'eventlog');
    const log = await FileEventLog.open({ dir: logDir, fsync: options.fsync });
    const journal = new EventJournal({
      log,
      hasher,
      logger: options.logger,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.compactEvery === undefined ? {} : { compactEvery: options.compactEvery }),
      logDir,
    });
    journal.openReport = log.openReport;
    const report = log.openReport;
    if (report.truncatedBytes > 0 || report.removedFiles.length > 0) {
      options.logger.warn({ ...report }, 'event log repaired on open (torn tail cut or interrupted compaction finished)');
    }
    try {
      await journal.restore();
    } catch (err) {
      // A replay that finds the log inconsistent must leave it closed before it is set aside.
      await log.close();
      throw err;
    }
    return journal;
  }

  /** Snapshot + replay into the in-memory state. */
  async restore(): Promise<ProjectedState> {
    const started = performance.now();
    let state = this.log.snapshot() ?? emptyState();
    let replayed = 0;
    const unrecognized = new Map<string, number>();
    for await (const record of this.log.replay()) {
      state = applyEvent(state, record);
      replayed += 1;
      if (record.type === 'Unrecognized') unrecognized.set(record.recordType, (unrecognized.get(record.recordType) ?? 0) + 1);
    }
    if (unrecognized.size > 0) {
      this.logger.warn(
        { recordTypes: Object.fromEntries(unrecognized) },
        'event log holds records of types this secretlet does not know (a newer version wrote them before a rollback): kept, and ignored; the next compaction drops them',
      );
    }
    this.current = state;
    this.sinceCompaction = replayed;
    const seconds = (performance.now() - started) / 1000;
    this.metrics?.eventLogReplaySeconds.set(seconds);
    this.metrics?.liveMounts.set(state.mounts.size);
    this.logger.info({ lastSeq: state.lastSeq, replayed, mounts: state.mounts.size, syncedSecrets: state.secrets.size, seconds }, 'event log replayed');
    return state;
  }

  get state(): ProjectedState {
    return this.current;
  }

  subscribe(subscriber: RecordSubscriber): () => void {
    this.subscribers.push(subscriber);
    return () => {
      const i = this.subscribers.indexOf(subscriber);
      if (i >= 0) this.subscribers.splice(i, 1);
    };
  }

  /**
   * Appends durably, then applies in seq order and notifies subscribers. Resolves once the records
   * are durable; they are applied then too unless an earlier seq from a concurrent call is still in
   * flight (it is applied, with ours, the moment it lands).
   */
  async record(events: readonly NewEvent[]): Promise<LoggedEvent[]> {
    if (events.length === 0) return [];
    let records: LoggedEvent[];
    try {
      records = await this.log.append(events);
    } catch (err) {
      this.noteAppendFailure(err);
      throw err;
    }
    for (const r of records) this.early.set(r.seq, r);
    this.drainEarly();
    // Records before ours may still be in flight in another call; they are applied when they land.
    // Ours are durable either way, and callers only read state for their own mount.
    this.maybeCompact();
    return records;
  }

  /**
   * Why the log refuses appends for good, if it does: a failed append leaves it unusable (seqs
   * may be half-written), and only reopening it (a restart: opening cuts the torn tail) recovers.
   * The agent's liveness check fails on it, so kubelet restarts the container once storage is back,
   * instead of every mount and unmount of the node failing behind green probes.
   */
  get failure(): SecretletError | undefined {
    return this.#failure;
  }

  private noteAppendFailure(err: unknown): void {
    // A log closed by the agent's own shutdown is not a storage failure.
    if (this.#failure !== undefined || this.closed || (err instanceof SecretletError && err.reason === 'EventLogClosed')) return;
    this.#failure = err instanceof SecretletError ? err : new SecretletError({ code: 'INTERNAL', reason: 'EventLogIoError', message: `event log append failed: ${String(err)}` });
    this.logger.error(
      { code: this.#failure.code, reason: this.#failure.reason, err: this.#failure.message },
      'event log failed: every mount and unmount fails until the agent restarts and reopens it; /healthz now fails so kubelet restarts it',
    );
  }

  private drainEarly(): void {
    for (;;) {
      const next = this.early.get(this.current.lastSeq + 1);
      if (next === undefined) return;
      this.early.delete(next.seq);
      const before = this.current;
      this.current = applyEvent(before, next);
      this.sinceCompaction += 1;
      if (before.mounts.size !== this.current.mounts.size) this.metrics?.liveMounts.set(this.current.mounts.size);
      for (const s of [...this.subscribers]) {
        try {
          s(next, before, this.current);
        } catch (e) {
          this.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'event subscriber failed');
        }
      }
    }
  }

  private maybeCompact(): void {
    if (this.compactEvery <= 0 || this.sinceCompaction < this.compactEvery || this.compacting !== undefined || this.closed) return;
    this.compacting = this.compactNow().finally(() => {
      this.compacting = undefined;
    });
  }

  /** Writes the current state as the snapshot; the log then holds only what came after it. */
  async compactNow(): Promise<void> {
    const state = this.current;
    const count = this.sinceCompaction;
    try {
      await this.log.compact(state);
      this.sinceCompaction -= count;
      this.logger.debug({ lastSeq: state.lastSeq }, 'event log compacted');
    } catch (e) {
      this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'event log compaction failed');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compacting;
    try {
      await this.log.close();
    } finally {
      await this.lock?.release();
    }
  }

  /** The log directory's bytes (undefined when it cannot be read: a gauge is not worth failing for). */
  private async logBytes(): Promise<number | undefined> {
    if (this.logDir === undefined) return undefined;
    try {
      const names = await readdir(this.logDir);
      let total = 0;
      for (const n of names) total += (await stat(join(this.logDir, n)).catch(() => ({ size: 0 }))).size;
      return total;
    } catch {
      return undefined;
    }
  }
}
