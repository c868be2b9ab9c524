/**
 * The piscina worker entry: thin on purpose. Piscina calls the default export with each posted
 * job; the work is synchronous and pure, so nothing is left running between tasks (which is why
 * the pool may use piscina's Atomics wake-up).
 */
import { createJobHandler } from './handle-job.js';
import type { WorkerJob, WorkerResult } from './protocol.js';

// This thread's handler: the memo of validated SecretProviderClasses lives as long as the thread.
const handle = createJobHandler();

export default function run(job: WorkerJob): WorkerResult {
  return handle(job);
}
