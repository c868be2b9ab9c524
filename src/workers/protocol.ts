/**
 * What crosses the worker-thread boundary, as discriminated unions of plain data (structured
 * clone): a job in, a result out. Errors travel as PlainError and are turned back into a
 * SecretletError by code on the main thread; a raw Error object is never posted.
 */
import type { PlainError } from '../core/errors.js';
import type { FetchedObject, MountPlan, RenderedFile } from '../core/model.js';
import type { PrepareOutcome } from '../core/ports/mount-worker.js';
import type { RenderedPayload } from '../core/render/render-files.js';
import type { MountRequestInput } from '../core/spc/mount-request.js';

/** Synchronous, pure jobs: the thread leaves nothing running when it answers them. */
export type ComputeJob =
  /** Start-up probe: answered once the thread has loaded every module a mount needs. */
  | { type: 'ping' }
  | { type: 'prepare'; input: MountRequestInput; primaryRegion?: string }
  /** `values` as entries: a Map survives structured clone, but entries keep the shape explicit. */
  | { type: 'render'; plan: MountPlan; values: Array<[number, FetchedObject]> };

/** Which of the thread's payload writers a write job uses (the same two the agent builds). */
export type WriterKind = 'kubelet' | 'provider';

/**
 * Puts a payload into `target` with the thread's writer of that kind. The main thread holds the
 * per-target lock: two threads never get a write job for one target at the same time.
 */
export interface WriteJob {
  type: 'write';
  writer: WriterKind;
  target: string;
  files: RenderedFile[];
  /** WriteConditions.directory: the target directory the caller last saw. */
  directory?: string;
  /**
   * WriteConditions.abandoned across the thread boundary: one Int32 on a SharedArrayBuffer that the
   * main thread sets to 1 when the caller gives up, read by the thread when the job starts (a job
   * can wait in the pool's queue well past its caller's deadline).
   */
  abandoned?: Int32Array;
}

export type WorkerJob = ComputeJob | WriteJob;

export type WorkerResult =
  | { type: 'pong' }
  | { type: 'prepared'; outcome: PrepareOutcome }
  | { type: 'rendered'; payload: RenderedPayload }
  | { type: 'written'; changed: boolean; skipped?: 'abandoned' | 'target-gone'; stamp?: string }
  | { type: 'error'; error: PlainError };
