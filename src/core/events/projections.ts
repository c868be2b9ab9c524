/**
 * The agent's memory, rebuilt from the event log: the live mounts (MountRegistry) and the Secrets
 * they ask for (DesiredSecrets), plus the seq of the last record applied. `applyEvent` is a pure
 * reducer (the input state is never modified), so replay, unit tests and the crash test all build
 * state the same way. The serialised form is what a snapshot stores during compaction.
 */
import { PersistentMap } from './persistent-map.js';
import { SecretletError } from '../errors.js';
import type { ReplayedRecord } from './events.js';
import { applyToDesiredSecrets, isSyncPending } from './desired-secrets.js';
import type { DesiredSecret, DesiredSecrets } from './desired-secrets.js';
import { applyToRegistry } from './mount-registry.js';
import type { MountEntry, MountRegistry } from './mount-registry.js';

export interface ProjectedState {
  /** Seq of the last record applied; 0 for the empty state. */
  lastSeq: number;
  mounts: MountRegistry;
  secrets: DesiredSecrets;
}

export function emptyState(): ProjectedState {
  return { lastSeq: 0, mounts: PersistentMap.empty(), secrets: new Map() };
}

/**
 * Applies one record. Records at or below `lastSeq` are already in the state and are ignored, which
 * makes replay idempotent (a crash in the middle of compaction may leave a snapshot and the segment
 * it covers side by side). A gap in the sequence is a broken invariant of the log and throws.
 */
export function applyEvent(state: ProjectedState, record: ReplayedRecord): ProjectedState {
  if (record.seq <= state.lastSeq) return state;
  if (record.seq !== state.lastSeq + 1) {
    throw new SecretletError({
      code: 'DATA_LOSS',
      reason: 'EventSequenceGap',
      message: `event log record seq ${record.seq} follows seq ${state.lastSeq}: records are missing`,
    });
  }
  // A newer version's record: its place in the sequence is taken, its meaning unknown here.
  if (record.type === 'Unrecognized') return { ...state, lastSeq: record.seq };
  const mounts = applyToRegistry(state.mounts, record);
  const secrets = applyToDesiredSecrets(state.secrets, record, { before: state.mounts, after: mounts });
  return { lastSeq: record.seq, mounts, secrets };
}

/** Applies records in order. */
export function applyEvents(state: ProjectedState, records: Iterable<ReplayedRecord>): ProjectedState {
  let next = state;
  for (const record of records) next = applyEvent(next, record);
  return next;
}

/** The Secrets whose desired state changed after their last successful sync, sorted by namespace/name. */
export function pendingSecretSyncs(state: ProjectedState): DesiredSecret[] {
  return [...state.secrets.entries()]
    .filter(([, s]) => isSyncPending(s))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, s]) => s);
}

/**
 * The snapshot format this version writes and reads. Bump it when a snapshot's meaning changes in a
 * way older versions would misread; they then refuse it (StateFromNewerVersion) instead of guessing.
 */
export const SNAPSHOT_FORMAT = 1;

/** JSON-safe form of the state, with entries in key order so equal states serialise identically. */
export interface SerializedState {
  format: typeof SNAPSHOT_FORMAT;
  lastSeq: number;
  mounts: MountEntry[];
  secrets: DesiredSecret[];
}

export function serializeState(state: ProjectedState): SerializedState {
  return {
    format: SNAPSHOT_FORMAT,
    lastSeq: state.lastSeq,
    mounts: sortedValues(state.mounts),
    secrets: sortedValues(state.secrets),
  };
}

/**
 * Rebuilds a state from its serialised form. Only the envelope is checked: the snapshot file carries
 * a checksum, so content that passes it was written by `serializeState`.
 */
export function deserializeState(value: unknown): ProjectedState {
  const v = value as Partial<SerializedState> | null;
  // A later format is not damage: a newer secretlet wrote it and the node was rolled back. Setting it
  // aside would forget every mount; refusing to start keeps it for the version that can read it.
  const format = typeof v === 'object' && v !== null ? (v as { format?: unknown }).format : undefined;
  if (Number.isSafeInteger(format) && (format as number) > SNAPSHOT_FORMAT) {
    throw new SecretletError({
      code: 'FAILED_PRECONDITION',
      reason: 'StateFromNewerVersion',
      message: `event log snapshot has format ${String(format)}, written by a newer secretlet; this version reads format ${SNAPSHOT_FORMAT}: run the newer version again (the state dir is left as it is)`,
    });
  }
  if (
    typeof v !== 'object' ||
    v === null ||
    v.format !== SNAPSHOT_FORMAT ||
    !Number.isSafeInteger(v.lastSeq) ||
    !Array.isArray(v.mounts) ||
    !Array.isArray(v.secrets)
  ) {
    throw new SecretletError({
      code: 'DATA_LOSS',
      reason: 'SnapshotInvalid',
      message: `event log snapshot does not hold a format ${SNAPSHOT_FORMAT} state`,
    });
  }
  return {
    lastSeq: v.lastSeq as number,
    mounts: PersistentMap.from(v.mounts.map((m): [string, MountEntry] => [m.mountKey, m])),
    secrets: new Map(v.secrets.map((s) => [`${s.namespace}/${s.secretName}`, s])),
  };
}

function sortedValues<T>(map: ReadonlyMap<string, T>): T[] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}
