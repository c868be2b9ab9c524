/**
 * The worker pool's public surface: `createMountWorker` picks the inline runner for pool size 0 and
 * the piscina pool otherwise; `createPayloadWriter` gives the payload writer that goes with it.
 * Defaults were measured with bench/density (see bench/README.md).
 */
import { KubeletAtomicWriter } from '../adapters/fs/atomic-writer.js';
import { ProviderFileWriter } from '../adapters/fs/provider-file-writer.js';
import type { SecretletError } from '../core/errors.js';
import type { MountWorker } from '../core/ports/mount-worker.js';
import type { PayloadWriter } from '../core/ports/payload-writer.js';
import { InlineMountWorker } from './inline-mount-worker.js';
import { PiscinaMountWorker } from './piscina-mount-worker.js';
import { PooledPayloadWriter } from './pooled-payload-writer.js';
import type { WriterKind } from './protocol.js';

export interface MountWorkerOptions {
  /** 0 = inline on the main thread. */
  poolSize: number;
  /** @default 1024 */
  maxQueue?: number;
  /** Told when a pool thread fails outside any job (it is replaced); the agent logs it. */
  onThreadError?: (error: SecretletError) => void;
}

export function createMountWorker(options: MountWorkerOptions): MountWorker {
  if (options.poolSize === 0) return new InlineMountWorker();
  return new PiscinaMountWorker({
    threads: options.poolSize,
    maxQueue: options.maxQueue ?? 1024,
    ...(options.onThreadError === undefined ? {} : { onThreadError: options.onThreadError }),
  });
}

export interface PayloadWriterChoice {
  writer: WriterKind;
  /** The agent's mount worker, from createMountWorker. */
  worker: MountWorker;
}

/**
 * With a thread pool, a PooledPayloadWriter whose writes run in the pool's threads; inline (pool
 * size 0), the direct writer with default options, writing on the calling thread.
 */
export function createPayloadWriter(choice: PayloadWriterChoice): PayloadWriter {
  const { worker, writer } = choice;
  if (worker instanceof PiscinaMountWorker) return new PooledPayloadWriter({ writer, run: (job) => worker.runWrite(job) });
  return writer === 'kubelet' ? new KubeletAtomicWriter() : new ProviderFileWriter();
}

export { InlineMountWorker } from './inline-mount-worker.js';
export { PiscinaMountWorker } from './piscina-mount-worker.js';
export type { PiscinaMountWorkerOptions } from './piscina-mount-worker.js';
export { PooledPayloadWriter } from './pooled-payload-writer.js';
export type { PooledPayloadWriterOptions } from './pooled-payload-writer.js';
export { createJobHandler, handleJob } from './handle-job.js';
export { createThreadWriters, handleWriteJob } from './handle-write-job.js';
export type { ThreadWriters } from './handle-write-job.js';
export type { ComputeJob, WorkerJob, WorkerResult, WriteJob, WriterKind } from './protocol.js';
