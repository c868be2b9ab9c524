/**
 * The node's append-only event log (implemented by FileEventLog on disk and InMemoryEventLog in
 * tests). It is the agent's memory across restarts: on start, `snapshot()` plus `replay()` rebuild
 * the projections (live mounts, desired Secrets); while running, every fact is appended before it
 * is acted on or acknowledged.
 *
 * Durability promise: an event whose `append` has resolved survives kill -9 (and, with an fsync
 * policy other than 'never', power loss). A record is never half-applied: a replay yields whole
 * records with consecutive seqs from the snapshot on.
 */
import type { LoggedEvent, NewEvent, ReplayedRecord } from '../events/events.js';
import type { ProjectedState } from '../events/projections.js';

export interface EventLog {
  /**
   * Appends events in order and assigns consecutive seqs (in call order across concurrent calls).
   * Resolves once they are durable per the log's fsync policy; rejects (and the log refuses further
   * appends) when storage fails, since seqs already handed out could otherwise be reused.
   */
  append(events: readonly NewEvent[]): Promise<LoggedEvent[]>;
  /**
   * Every record after the snapshot's `lastSeq`, in seq order, up to the last record durable when
   * called. A record of a type this build does not know (a newer version wrote it) comes as an
   * UnrecognizedRecord in its place.
   */
  replay(): AsyncIterable<ReplayedRecord>;
  /** The state loaded from the last snapshot when the log was opened, if there is one. */
  snapshot(): ProjectedState | undefined;
  /**
   * Stores `state` as the new snapshot and drops records it covers (all with seq <= state.lastSeq).
   * `state.lastSeq` must not be beyond the last appended record. A crash at any point leaves a log
   * that opens and replays to the same state.
   */
  compact(state: ProjectedState): Promise<void>;
  /** Waits for appends in flight, then releases files. Further calls reject. */
  close(): Promise<void>;
}

/**
 * The keyed content hash recorded in the log instead of values (see LoggedObject.hash):
 * HMAC-SHA256 with a per-node key, hex, first 32 characters.
 */
export interface ContentHasher {
  hash(bytes: Uint8Array): string;
}
