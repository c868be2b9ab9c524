/**
 * The payload-write half of a pool thread: each thread owns one kubelet-style and one
 * provider-style writer, built with default options exactly as the agent builds its direct ones,
 * so a write in a thread lands the same files, modes and no-op rewrites as on the main thread.
 * Like handleJob it never throws: a failure comes back as the plain form of its SecretletError.
 */
import { KubeletAtomicWriter } from '../adapters/fs/atomic-writer.js';
import { ProviderFileWriter } from '../adapters/fs/provider-file-writer.js';
import { toPlainError } from '../core/errors.js';
import type { PayloadWriter, WriteConditions } from '../core/ports/payload-writer.js';
import type { WorkerResult, WriteJob, WriterKind } from './protocol.js';

export type ThreadWriters = Readonly<Record<WriterKind, PayloadWriter>>;

export function createThreadWriters(): ThreadWriters {
  return { kubelet: new KubeletAtomicWriter(), provider: new ProviderFileWriter() };
}

/**
 * Runs one write job and resolves only after one full event-loop turn: the writers hand the turn
 * over with setImmediate when an inline (tmpfs) write ends, and that callback must have run before
 * the task is answered, so the thread leaves nothing pending when piscina parks it between tasks.
 */
export async function handleWriteJob(job: WriteJob, writers: ThreadWriters): Promise<WorkerResult> {
  let result: WorkerResult;
  try {
    // The main thread holds the target's lock, so the job's start is the write's start.
    if (job.abandoned !== undefined && Atomics.load(job.abandoned, 0) === 1) return { type: 'written', changed: false, skipped: 'abandoned' };
    const conditions: WriteConditions = job.directory === undefined ? {} : { directory: job.directory };
    const outcome = await writers[job.writer].write(job.target, job.files, conditions);
    result = { type: 'written', changed: outcome.changed, ...(outcome.skipped === undefined ? {} : { skipped: outcome.skipped }), ...(outcome.stamp === undefined ? {} : { stamp: outcome.stamp }) };
  } catch (e) {
    result = { type: 'error', error: toPlainError(e) };
  }
  // setImmediate callbacks run in order: the writer's hand-over, queued first, runs before this one.
  await new Promise<void>((resolve) => setImmediate(resolve));
  return result;
}
