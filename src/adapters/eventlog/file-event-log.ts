/**
 * The EventLog on the node's disk: NDJSON segments with a checksum per line, snapshots written by
 * compaction, and group commit. See README.md in this folder for the format and the durability
 * promise; log-recovery.ts for what opening repairs.
 *
 * Concurrency model: `append` assigns seqs synchronously (so seq order is call order) and queues
 * the lines; one drain loop writes queued lines in batches, one write and one fdatasync per batch,
 * and resolves the batch's appends only after that. File operations (batch writes, segment
 * rotation, compaction, close) run one at a time through `exclusive`, so compaction never sees a
 * half-written batch. If a write or fsync fails, the log stops accepting appends: the tail may hold
 * part of a batch, and the only safe continuation is a reopen that cuts it.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretletError, asSecretletError } from '../../core/errors.js';
import { toLoggedEvent } from '../../core/events/events.js';
import type { LoggedEvent, NewEvent, ReplayedRecord } from '../../core/events/events.js';
import type { ProjectedState } from '../../core/events/projections.js';
import type { EventLog } from '../../core/ports/event-log.js';
import { removeDurably, syncDirectory } from './durable-files.js';
import { listLogDirectory, segmentName, writeSnapshot } from './log-directory.js';
import type { SegmentFile } from './log-directory.js';
import { recoverLogDirectory } from './log-recovery.js';
import type { OpenReport } from './log-recovery.js';
import { sealJson } from './sealed-json.js';
import { scanSegment } from './segment-scan.js';

/**
 * - 'always': every append is fsynced before it resolves (appends that arrive during an fsync share
 *   the next one).
 * - 'group': appends wait up to `groupCommitMs` to share one fsync. Same promise as 'always', fewer
 *   fsyncs, more latency: worth it only where fsync is slow compared with the window (see README).
 * - 'never': resolves after the write(2); survives kill -9 (the page cache outlives the process) but
 *   not power loss.
 */
export type FsyncPolicy = 'always' | 'group' | 'never';

export interface FileEventLogOptions {
  /** The log's own directory (created 0700 if missing). */
  dir: string;
  fsync: FsyncPolicy;
  /** @default 5 — only for fsync 'group'. */
  groupCommitMs?: number;
  /** A segment is closed and a new one started once it reaches this size. @default 16 MiB */
  maxSegmentBytes?: number;
  /** Milliseconds since the epoch, for record times. @default Date.now */
  now?: () => number;
  /**
   * Opens a segment for appending. Tests wrap it to see the writes and syncs an append waits for.
   * @default `open(path, 'a', 0o600)`
   */
  openSegment?: (path: string) => Promise<SegmentHandle>;
}

/** What the log does with a segment it appends to. */
export type SegmentHandle = Pick<FileHandle, 'write' | 'datasync' | 'close'>;

const openForAppend = (path: string): Promise<SegmentHandle> => open(path, 'a', 0o600);

interface PendingAppend {
  text: string;
  records: LoggedEvent[];
  queuedAt: number;
  resolve: (records: LoggedEvent[]) => void;
  reject: (err: unknown) => void;
}

type LogState = 'open' | 'closing' | 'closed' | 'failed';

/** Counters for metrics and tests: how well group commit is batching. */
export interface FileEventLogStats {
  records: number;
  /** Write calls, one per batch of appends. */
  batches: number;
  fsyncs: number;
  segmentRotations: number;
  compactions: number;
}

export class FileEventLog implements EventLog {
  /** What opening had to repair (a cut tail, leftovers of an interrupted compaction). */
  readonly openReport: OpenReport;

  private readonly dir: string;
  private readonly fsync: FsyncPolicy;
  private readonly groupCommitMs: number;
  private readonly maxSegmentBytes: number;
  private readonly now: () => number;

  private state: LogState = 'open';
  private failure: SecretletError | undefined;
  private handle: SegmentHandle;
  private readonly openSegment: (path: string) => Promise<SegmentHandle>;
  private segments: SegmentFile[];
  private activeBytes: number;
  /** Next seq to hand out. */
  private nextSeq: number;
  /** Seq of the last record written (and fsynced, per policy). */
  private writtenSeq: number;
  private snapshotState: ProjectedState | undefined;
  private queue: PendingAppend[] = [];
  /** Set and cleared synchronously around the drain loop, so an append never finds a loop that is about to end. */
  private isDraining = false;
  private draining: Promise<void> = Promise.resolve();
  private tail: Promise<unknown> = Promise.resolve();
  private activeReplays = 0;
  private readonly counters: FileEventLogStats = { records: 0, batches: 0, fsyncs: 0, segmentRotations: 0, compactions: 0 };

  private constructor(options: Required<FileEventLogOptions>, recovered: Awaited<ReturnType<typeof recoverLogDirectory>>, handle: SegmentHandle) {
    this.dir = options.dir;
    this.fsync = options.fsync;
    this.groupCommitMs = options.groupCommitMs;
    this.maxSegmentBytes = options.maxSegmentBytes;
    this.now = options.now;
    this.openReport = recovered.report;
    this.snapshotState = recovered.snapshot;
    this.segments = recovered.segments;
    this.activeBytes = recovered.activeBytes;
    this.writtenSeq = recovered.lastSeq;
    this.nextSeq = recovered.lastSeq + 1;
    this.handle = handle;
    this.openSegment = options.openSegment;
  }

  /** Opens (creating if needed) the log in `options.dir`, repairing a torn tail. DATA_LOSS if it cannot. */
  static async open(options: FileEventLogOptions): Promise<FileEventLog> {
    const filled: Required<FileEventLogOptions> = {
      dir: options.dir,
      fsync: options.fsync,
      groupCommitMs: options.groupCommitMs ?? 5,
      maxSegmentBytes: options.maxSegmentBytes ?? 16 * 1024 * 1024,
      now: options.now ?? Date.now,
      openSegment: options.openSegment ?? openForAppend,
    };
    if (!['always', 'group', 'never'].includes(filled.fsync)) throw new TypeError("options.fsync must be 'always', 'group' or 'never'");
    if (!(filled.groupCommitMs >= 0)) throw new TypeError('options.groupCommitMs must be a non-negative number');
    if (!(filled.maxSegmentBytes > 0)) throw new TypeError('options.maxSegmentBytes must be a positive number');
    try {
      await mkdir(filled.dir, { recursive: true, mode: 0o700 });
      const recovered = await recoverLogDirectory(filled.dir);
      const active = recovered.segments.at(-1);
      if (active === undefined) throw new Error('recovery left no active segment');
      const handle = await filled.openSegment(join(filled.dir, active.name));
      return new FileEventLog(filled, recovered, handle);
    } catch (err) {
      throw ioError(err, 'open');
    }
  }

  append(events: readonly NewEvent[]): Promise<LoggedEvent[]> {
    if (this.state !== 'open') return Promise.reject(this.unusable());
    if (events.length === 0) return Promise.resolve([]);
    const time = new Date(this.now()).toISOString();
    const records = events.map((e) => toLoggedEvent(e, this.nextSeq++, time));
    const text = records.map((r) => `${sealJson(r)}\n`).join('');
    return new Promise((resolve, reject) => {
      this.queue.push({ text, records, queuedAt: performance.now(), resolve, reject });
      if (!this.isDraining) {
        this.isDraining = true;
        this.draining = this.drain();
      }
    });
  }

  async *replay(): AsyncIterable<ReplayedRecord> {
    if (this.state === 'closed') throw this.unusable();
    // Only what was durable when replay started; appends made meanwhile are not part of it.
    const upTo = this.writtenSeq;
    const segments = [...this.segments];
    const activeBytes = this.activeBytes;
    const after = this.snapshotState?.lastSeq ?? 0;
    this.activeReplays += 1;
    try {
      let expected: number | undefined;
      for (const [i, segment] of segments.entries()) {
        const isActive = i === segments.length - 1;
        if (!isActive && (segments[i + 1]?.firstSeq ?? Infinity) <= after + 1) continue;
        const bytes = isActive ? await readPrefix(join(this.dir, segment.name), activeBytes) : await readFile(join(this.dir, segment.name));
        const scan = scanSegment(bytes, segment.firstSeq);
        if (scan.bad !== undefined || (expected !== undefined && segment.firstSeq !== expected)) {
          throw new SecretletError({ code: 'DATA_LOSS', reason: 'SegmentCorrupt', message: `event log segment ${segment.name} changed under the running agent` });
        }
        expected = scan.lastSeq + 1;
        for (const record of scan.records) if (record.seq > after && record.seq <= upTo) yield record;
      }
    } finally {
      this.activeReplays -= 1;
    }
  }

  snapshot(): ProjectedState | undefined {
    return this.snapshotState;
  }

  stats(): FileEventLogStats {
    return { ...this.counters };
  }

  compact(state: ProjectedState): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.unusable());
    return this.exclusive(() => this.compactNow(state));
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'open') this.state = 'closing';
    while (this.isDraining) await this.draining;
    await this.exclusive(async () => {
      if (this.state === 'closed') return;
      try {
        if (this.fsync === 'never' && this.failure === undefined) await this.handle.datasync();
      } finally {
        this.state = 'closed';
        await this.handle.close();
      }
    });
  }

  /**
   * Writes queued appends in batches until the queue is empty. The empty-queue check and clearing
   * `isDraining` happen in the same synchronous step, so an append cannot slip in between.
   */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        if (this.fsync === 'group') {
          const first = this.queue[0];
          const wait = first === undefined ? 0 : first.queuedAt + this.groupCommitMs - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
        const batch = this.queue.splice(0);
        try {
          await this.exclusive(() => this.writeBatch(batch));
          for (const item of batch) item.resolve(item.records);
        } catch (err) {
          this.failure = ioError(err, 'append');
          if (this.state !== 'closed') this.state = 'failed';
          for (const item of [...batch, ...this.queue.splice(0)]) item.reject(this.failure);
        }
      }
    } finally {
      this.isDraining = false;
    }
  }

  private async writeBatch(batch: readonly PendingAppend[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const bytes = Buffer.from(batch.map((b) => b.text).join(''), 'utf8');
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
    if (this.fsync !== 'never') {
      await this.handle.datasync();
      this.counters.fsyncs += 1;
    }
    this.counters.batches += 1;
    this.counters.records += batch.reduce((n, b) => n + b.records.length, 0);
    this.activeBytes += bytes.length;
    const lastRecord = batch.at(-1)?.records.at(-1);
    if (lastRecord !== undefined) this.writtenSeq = lastRecord.seq;
    if (this.activeBytes >= this.maxSegmentBytes) await this.rotate();
  }

  /** Starts a new segment after the last written record; its directory entry is durable before use. */
  private async rotate(): Promise<void> {
    const segment: SegmentFile = { firstSeq: this.writtenSeq + 1, name: segmentName(this.writtenSeq + 1) };
    const handle = await this.openSegment(join(this.dir, segment.name));
    try {
      await syncDirectory(this.dir);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    const previous = this.handle;
    this.handle = handle;
    this.segments.push(segment);
    this.activeBytes = 0;
    this.counters.segmentRotations += 1;
    await previous.close();
  }

  /**
   * A rotation that fails once the snapshot is durable may leave the new segment's file behind,
   * empty. Recovery would take that file as the start of what follows the snapshot and delete the
   * segment before it as covered, so no record may be appended there any more: the log fails
   * (a restart reopens it, where everything acknowledged is covered by the snapshot).
   */
  private async rotateAfterSnapshot(): Promise<void> {
    try {
      await this.rotate();
    } catch (err) {
      this.failure = ioError(err, 'compact');
      if (this.state !== 'closed') this.state = 'failed';
      throw this.failure;
    }
  }

  /**
   * Crash safety by order: (1) the snapshot is durable under its final name before anything is
   * removed; (2) a new segment starts so the old ones are closed; (3) segments and snapshots the new
   * snapshot covers are removed. A crash before (1) completes leaves the old snapshot and all
   * segments; after it, opening finishes (3) itself; replay skips records the snapshot holds.
   */
  private async compactNow(state: ProjectedState): Promise<void> {
    if (this.activeReplays > 0) {
      throw new SecretletError({ code: 'FAILED_PRECONDITION', reason: 'ReplayInProgress', message: 'cannot compact the event log while a replay is running' });
    }
    if (state.lastSeq > this.writtenSeq) {
      throw new SecretletError({
        code: 'FAILED_PRECONDITION',
        reason: 'SnapshotAheadOfLog',
        message: `cannot compact at seq ${state.lastSeq}: the log ends at seq ${this.writtenSeq}`,
      });
    }
    if (state.lastSeq <= (this.snapshotState?.lastSeq ?? 0)) return;
    try {
      const name = await writeSnapshot(this.dir, state);
      this.snapshotState = state;
      if (this.activeBytes > 0) await this.rotateAfterSnapshot();
      const covered = this.segments.filter((_s, i) => (this.segments[i + 1]?.firstSeq ?? Infinity) <= state.lastSeq + 1);
      this.segments = this.segments.filter((s) => !covered.includes(s));
      const oldSnapshots = (await listLogDirectory(this.dir)).snapshots.map((s) => s.name).filter((n) => n !== name);
      await removeDurably(this.dir, [...covered.map((s) => s.name), ...oldSnapshots]);
      this.counters.compactions += 1;
    } catch (err) {
      throw ioError(err, 'compact');
    }
  }

  /** Runs `task` after every file operation queued before it. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private unusable(): SecretletError {
    if (this.state === 'failed' && this.failure !== undefined) return this.failure;
    return new SecretletError({ code: 'FAILED_PRECONDITION', reason: 'EventLogClosed', message: `event log in ${this.dir} is ${this.state}` });
  }
}

async function readPrefix(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    let offset = 0;
    while (offset < length) {
      const { bytesRead } = await handle.read(buffer, offset, length - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return buffer.subarray(0, offset);
  } finally {
    await handle.close();
  }
}

function ioError(err: unknown, operation: string): SecretletError {
  if (err instanceof SecretletError) return err;
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return asSecretletError(err, { code: 'RESOURCE_EXHAUSTED', reason: 'EventLogDiskFull' });
  }
  return new SecretletError({
    code: 'INTERNAL',
    reason: 'EventLogIoError',
    message: `event log ${operation} failed: ${err instanceof Error ? err.message : String(err)}`,
    cause: err,
  });
}
