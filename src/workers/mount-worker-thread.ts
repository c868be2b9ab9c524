/**
 * The piscina worker entry: thin on purpose. Piscina calls the default export with each posted
 * job. Compute jobs (ping, prepare, render) are synchronous and pure; write jobs are async but
 * settle only once the writers have nothing left pending (handle-write-job.ts). So nothing runs
 * between tasks, which is why the pool may park idle threads with piscina's blocking Atomics.wait
 * (`atomics: 'sync'`): a callback left pending there would only run when the next task arrives.
 */
import { createJobHandler } from './handle-job.js';
import { createThreadWriters, handleWriteJob } from './handle-write-job.js';
import type { WorkerJob, WorkerResult } from './protocol.js';

// This thread's state: the memo of validated SecretProviderClasses and the payload writers (whose
// per-target locks and inline-write turn-taking are per instance) live as long as the thread.
const handle = createJobHandler();
const writers = createThreadWriters();

export default function run(job: WorkerJob): WorkerResult | Promise<WorkerResult> {
  return job.type === 'write' ? handleWriteJob(job, writers) : handle(job);
}
