/**
 * The layout of a log directory and its snapshot files:
 *   events-<firstSeq, 16 digits>.ndjson   a segment: records firstSeq, firstSeq+1, ... (one per line)
 *   snapshot-<lastSeq, 16 digits>.json    the projected state after record lastSeq (sealed JSON)
 *   *.tmp                                 a snapshot being written; left behind only by a crash
 * Zero-padding keeps `ls` in seq order; readers parse the number and do not rely on it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretletError } from '../../core/errors.js';
import { deserializeState, serializeState } from '../../core/events/projections.js';
import type { ProjectedState } from '../../core/events/projections.js';
import { writeFileDurably } from './durable-files.js';
import { sealJson, unsealJson } from './sealed-json.js';

const SEGMENT = /^events-(\d+)\.ndjson$/;
const SNAPSHOT = /^snapshot-(\d+)\.json$/;
const SNAPSHOT_KIND = 'secretlet-eventlog-snapshot';

export interface SegmentFile {
  firstSeq: number;
  name: string;
}

export interface SnapshotFile {
  lastSeq: number;
  name: string;
}

export interface LogDirectory {
  /** Ascending by firstSeq. */
  segments: SegmentFile[];
  /** Ascending by lastSeq. */
  snapshots: SnapshotFile[];
  temps: string[];
}

export function segmentName(firstSeq: number): string {
  return `events-${String(firstSeq).padStart(16, '0')}.ndjson`;
}

export function snapshotName(lastSeq: number): string {
  return `snapshot-${String(lastSeq).padStart(16, '0')}.json`;
}

export async function listLogDirectory(dir: string): Promise<LogDirectory> {
  const segments: SegmentFile[] = [];
  const snapshots: SnapshotFile[] = [];
  const temps: string[] = [];
  for (const name of await readdir(dir)) {
    const segment = SEGMENT.exec(name);
    const snapshot = SNAPSHOT.exec(name);
    if (segment?.[1] !== undefined) segments.push({ firstSeq: Number(segment[1]), name });
    else if (snapshot?.[1] !== undefined) snapshots.push({ lastSeq: Number(snapshot[1]), name });
    else if (name.endsWith('.tmp')) temps.push(name);
  }
  segments.sort((a, b) => a.firstSeq - b.firstSeq);
  snapshots.sort((a, b) => a.lastSeq - b.lastSeq);
  return { segments, snapshots, temps };
}

/** Writes the snapshot of `state` durably (temp, fsync, rename, fsync dir) and returns its file name. */
export async function writeSnapshot(dir: string, state: ProjectedState): Promise<string> {
  const name = snapshotName(state.lastSeq);
  const body = sealJson({ kind: SNAPSHOT_KIND, lastSeq: state.lastSeq, state: serializeState(state) });
  await writeFileDurably(dir, name, `${body}\n`);
  return name;
}

/** Reads a snapshot; a bad checksum or a state for another seq than its name says is DATA_LOSS. */
export async function readSnapshot(dir: string, file: SnapshotFile): Promise<ProjectedState> {
  const text = (await readFile(join(dir, file.name), 'utf8')).replace(/\n$/, '');
  const unsealed = unsealJson(text);
  if (!unsealed.ok || unsealed.value.kind !== SNAPSHOT_KIND || unsealed.value.lastSeq !== file.lastSeq) {
    throw new SecretletError({
      code: 'DATA_LOSS',
      reason: 'SnapshotCorrupt',
      message: `event log snapshot ${file.name} is corrupt (${unsealed.ok ? 'wrong content' : unsealed.problem})`,
    });
  }
  const state = deserializeState(unsealed.value.state);
  if (state.lastSeq !== file.lastSeq) {
    throw new SecretletError({ code: 'DATA_LOSS', reason: 'SnapshotCorrupt', message: `event log snapshot ${file.name} holds the state of seq ${state.lastSeq}` });
  }
  return state;
}
