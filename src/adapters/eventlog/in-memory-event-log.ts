/**
 * An EventLog held in memory, for unit tests of code that appends or replays (and for a dev mode
 * without a state directory). It keeps the port's contract — consecutive seqs in call order,
 * snapshot plus replay after compaction, no use after close — but promises no durability.
 * Snapshots go through serialise/deserialise so state that is not JSON-safe fails here too.
 */
import { SecretletError } from '../../core/errors.js';
import { toLoggedEvent } from '../../core/events/events.js';
import type { LoggedEvent, NewEvent } from '../../core/events/events.js';
import { deserializeState, serializeState } from '../../core/events/projections.js';
import type { ProjectedState } from '../../core/events/projections.js';
import type { EventLog } from '../../core/ports/event-log.js';

export interface InMemoryEventLogOptions {
  /** Milliseconds since the epoch, for record times; default Date.now. */
  now?: () => number;
}

export class InMemoryEventLog implements EventLog {
  private readonly now: () => number;
  private records: LoggedEvent[] = [];
  private snapshotJson: string | undefined;
  private lastSeq = 0;
  private closed = false;

  constructor(options: InMemoryEventLogOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  append(events: readonly NewEvent[]): Promise<LoggedEvent[]> {
    if (this.closed) return Promise.reject(closedError());
    const time = new Date(this.now()).toISOString();
    // JSON round trip: what is appended is what a file log would replay.
    const logged = events.map((e) => toLoggedEvent(JSON.parse(JSON.stringify(e)) as NewEvent, ++this.lastSeq, time));
    this.records.push(...logged);
    return Promise.resolve(logged.map((r) => structuredClone(r)));
  }

  async *replay(): AsyncIterable<LoggedEvent> {
    const upTo = this.lastSeq;
    for (const record of this.records) {
      if (record.seq > upTo) return;
      yield structuredClone(record);
    }
  }

  snapshot(): ProjectedState | undefined {
    return this.snapshotJson === undefined ? undefined : deserializeState(JSON.parse(this.snapshotJson));
  }

  compact(state: ProjectedState): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (state.lastSeq > this.lastSeq) {
      return Promise.reject(
        new SecretletError({
          code: 'FAILED_PRECONDITION',
          reason: 'SnapshotAheadOfLog',
          message: `cannot compact at seq ${state.lastSeq}: the log ends at seq ${this.lastSeq}`,
        }),
      );
    }
    this.snapshotJson = JSON.stringify(serializeState(state));
    this.records = this.records.filter((r) => r.seq > state.lastSeq);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Test helper: how many records a replay would yield now. */
  get size(): number {
    return this.records.length;
  }
}

function closedError(): SecretletError {
  return new SecretletError({ code: 'FAILED_PRECONDITION', reason: 'EventLogClosed', message: 'event log is closed' });
}
