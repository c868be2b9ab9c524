/**
 * Rebuilds the agent's state on start: the snapshot the log was opened with (or the empty state),
 * then every record after it. Rotation, unmount and Secret sync all start from this result.
 */
import type { EventLog } from '../ports/event-log.js';
import { applyEvent, emptyState } from './projections.js';
import type { ProjectedState } from './projections.js';

export async function restoreState(log: Pick<EventLog, 'snapshot' | 'replay'>): Promise<ProjectedState> {
  let state = log.snapshot() ?? emptyState();
  for await (const record of log.replay()) state = applyEvent(state, record);
  return state;
}
