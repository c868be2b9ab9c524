/**
 * The worker pool's public surface: `createMountWorker` picks the inline runner for pool size 0 and
 * the piscina pool otherwise. Defaults were measured with bench/density (see bench/README.md).
 */
import type { MountWorker } from '../core/ports/mount-worker.js';
import { InlineMountWorker } from './inline-mount-worker.js';
import { PiscinaMountWorker } from './piscina-mount-worker.js';

export interface MountWorkerOptions {
  /** 0 = inline on the main thread. */
  poolSize: number;
  /** @default 1024 */
  maxQueue?: number;
}

export function createMountWorker(options: MountWorkerOptions): MountWorker {
  if (options.poolSize === 0) return new InlineMountWorker();
  return new PiscinaMountWorker({ threads: options.poolSize, maxQueue: options.maxQueue ?? 1024 });
}

export { InlineMountWorker } from './inline-mount-worker.js';
export { PiscinaMountWorker } from './piscina-mount-worker.js';
export type { PiscinaMountWorkerOptions } from './piscina-mount-worker.js';
export { createJobHandler, handleJob } from './handle-job.js';
export type { WorkerJob, WorkerResult } from './protocol.js';
