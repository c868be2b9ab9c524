/**
 * What FileEventLog.open does before the first append: load the newest snapshot, finish a
 * compaction a crash interrupted, check that the segments hold every record after the snapshot
 * with no gap, and cut a torn tail off the last segment. The rule that separates a crash from
 * corruption: damage at the very end of the log (nothing valid after it) is a write that never
 * completed, so it was never acknowledged and may be cut; damage followed by valid records means
 * acknowledged data is gone, and opening fails with DATA_LOSS rather than silently skipping it.
 */
import { open, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretletError } from '../../core/errors.js';
import type { ProjectedState } from '../../core/events/projections.js';
import { removeDurably, syncDirectory } from './durable-files.js';
import { listLogDirectory, readSnapshot, segmentName } from './log-directory.js';
import type { SegmentFile } from './log-directory.js';
import { scanSegment } from './segment-scan.js';
import type { TailProblem } from './segment-scan.js';

/** What opening had to repair. All zero / undefined for a log that was closed cleanly. */
export interface OpenReport {
  /** Bytes cut from the end of the last segment. */
  truncatedBytes: number;
  /** Lines (records or fragments) in the cut region. */
  droppedRecords: number;
  reason: TailProblem | undefined;
  /** Leftovers removed: temp files, segments and snapshots an interrupted compaction left behind. */
  removedFiles: string[];
}

export interface RecoveredLog {
  snapshot: ProjectedState | undefined;
  /** Ascending; the last one is the active segment (it exists on disk). */
  segments: SegmentFile[];
  /** Size of the active segment after repair. */
  activeBytes: number;
  /** Seq of the last record in the log (or of the snapshot, if higher). */
  lastSeq: number;
  report: OpenReport;
}

export async function recoverLogDirectory(dir: string): Promise<RecoveredLog> {
  const listing = await listLogDirectory(dir);
  const removedFiles = [...listing.temps];
  const newest = listing.snapshots.at(-1);
  const snapshot = newest === undefined ? undefined : await readSnapshot(dir, newest);
  const snapSeq = snapshot?.lastSeq ?? 0;
  removedFiles.push(...listing.snapshots.slice(0, -1).map((s) => s.name));

  // Segments whose every record is in the snapshot (the next segment starts at or before snapSeq+1).
  let segments = listing.segments;
  const covered = segments.filter((_s, i) => (segments[i + 1]?.firstSeq ?? Infinity) <= snapSeq + 1);
  removedFiles.push(...covered.map((s) => s.name));
  segments = segments.filter((s) => !covered.includes(s));

  // Empty segments after the last non-empty one only say "a rotation happened"; they hold nothing.
  while (segments.length > 1 && (await stat(join(dir, segmentAt(segments, -1).name))).size === 0) {
    removedFiles.push(segmentAt(segments, -1).name);
    segments = segments.slice(0, -1);
  }
  // Nothing is removed or cut until every segment checked out: which segments the snapshot covers
  // is read from the next segment's name, and a log that turns out corrupt (DATA_LOSS) must be left
  // exactly as found, for whoever recovers it.

  const first = segments[0];
  if (first !== undefined && first.firstSeq > snapSeq + 1) {
    throw dataLoss('SegmentGap', `event log records ${snapSeq + 1}..${first.firstSeq - 1} are missing (first segment is ${first.name})`);
  }

  // Every segment but the last must be whole and followed by the next seq.
  let expectedFirst = first?.firstSeq ?? snapSeq + 1;
  for (const segment of segments.slice(0, -1)) {
    if (segment.firstSeq !== expectedFirst) throw dataLoss('SegmentGap', `event log segment ${segment.name} does not start at seq ${expectedFirst}`);
    const scan = scanSegment(await readFile(join(dir, segment.name)), segment.firstSeq);
    if (scan.bad !== undefined) {
      throw dataLoss('SegmentCorrupt', `event log segment ${segment.name} is corrupt at byte ${scan.bad.offset} (${scan.bad.problem}) and later segments follow`);
    }
    expectedFirst = scan.lastSeq + 1;
  }

  const report: OpenReport = { truncatedBytes: 0, droppedRecords: 0, reason: undefined, removedFiles };
  const last = segments.at(-1);
  let lastSeq = snapSeq;
  let activeBytes = 0;
  if (last !== undefined) {
    if (last.firstSeq !== expectedFirst) throw dataLoss('SegmentGap', `event log segment ${last.name} does not start at seq ${expectedFirst}`);
    const path = join(dir, last.name);
    const bytes = await readFile(path);
    const scan = scanSegment(bytes, last.firstSeq);
    if (scan.bad?.followedByGood === true) {
      throw dataLoss('SegmentCorrupt', `event log segment ${last.name} is corrupt at byte ${scan.bad.offset} (${scan.bad.problem}) and valid records follow`);
    }
    await removeDurably(dir, removedFiles);
    if (scan.bad !== undefined) {
      await truncate(path, scan.goodBytes);
      await syncFile(path);
      report.truncatedBytes = bytes.length - scan.goodBytes;
      report.droppedRecords = scan.bad.lines;
      report.reason = scan.bad.problem;
    }
    lastSeq = Math.max(snapSeq, scan.lastSeq);
    activeBytes = scan.goodBytes;
    // A snapshot newer than every record (possible only with fsync 'never' and a power loss):
    // appends must continue after the snapshot, in a fresh segment.
    if (scan.lastSeq < snapSeq) segments = [];
  }
  if (last === undefined) await removeDurably(dir, removedFiles);
  if (segments.length === 0) {
    const fresh: SegmentFile = { firstSeq: lastSeq + 1, name: segmentName(lastSeq + 1) };
    const stale = (await listLogDirectory(dir)).segments.map((s) => s.name);
    await (await open(join(dir, fresh.name), 'a', 0o600)).close();
    await syncDirectory(dir);
    await removeDurably(dir, stale.filter((n) => n !== fresh.name));
    report.removedFiles.push(...stale.filter((n) => n !== fresh.name));
    segments = [fresh];
    activeBytes = 0;
  }
  return { snapshot, segments, activeBytes, lastSeq, report };
}

function segmentAt(segments: SegmentFile[], index: number): SegmentFile {
  const s = segments.at(index);
  if (s === undefined) throw new RangeError('no segment');
  return s;
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function dataLoss(reason: string, message: string): SecretletError {
  return new SecretletError({ code: 'DATA_LOSS', reason, message });
}
