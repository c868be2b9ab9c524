/**
 * The piscina worker entry: thin on purpose. Piscina calls the default export with each posted
 * job; the work is synchronous and pure, so nothing is left running between tasks (which is why
 * the pool may use piscina's Atomics wake-up).
 */
import { handleJob } from './handle-job.js';
import type { WorkerJob, WorkerResult } from './protocol.js';

export default function run(job: WorkerJob): WorkerResult {
  return handleJob(job);
}
