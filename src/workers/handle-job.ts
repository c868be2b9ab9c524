/**
 * The one function both runners execute: dispatches a ComputeJob to the pure core functions and
 * returns a WorkerResult. Never throws: every failure becomes `{ type: 'error' }` with the plain
 * form of the SecretletError, so the inline runner and the thread pool behave the same.
 */
import { toPlainError } from '../core/errors.js';
import type { PrepareOutcome } from '../core/ports/mount-worker.js';
import { renderFiles } from '../core/render/render-files.js';
import { identityFor, parseMountRequestHead, parseMountRequestRest, planMount } from '../core/spc/mount-request.js';
import type { MountRequestInput } from '../core/spc/mount-request.js';
import { ValidatedObjectsMemo } from '../core/spc/validated-objects-memo.js';
import type { ComputeJob, WorkerResult } from './protocol.js';

function prepare(input: MountRequestInput, primaryRegion: string | undefined, memo: ValidatedObjectsMemo | undefined): PrepareOutcome {
  // ASCP looks the region up (step 9) before it parses usePodIdentity and the rest: so does this.
  const head = parseMountRequestHead(input);
  const primary = head.regionParam !== '' ? head.regionParam : primaryRegion;
  if (primary === undefined || primary === '') return { kind: 'needsRegion', pod: head.pod };
  const parsed = parseMountRequestRest(head, primary);
  return { kind: 'planned', mount: { parsed, plan: planMount(parsed, primary, memo), identity: identityFor(parsed) } };
}

/**
 * One compute job, validating from scratch (no memory between calls). Payload writes are async
 * and thread-bound (handle-write-job.ts), so they are not dispatched here.
 */
export function handleJob(job: ComputeJob, memo?: ValidatedObjectsMemo): WorkerResult {
  try {
    switch (job.type) {
      case 'ping':
        return { type: 'pong' };
      case 'prepare':
        return { type: 'prepared', outcome: prepare(job.input, job.primaryRegion, memo) };
      case 'render':
        return { type: 'rendered', payload: renderFiles(job.plan, new Map(job.values)) };
    }
  } catch (e) {
    return { type: 'error', error: toPlainError(e) };
  }
}

/**
 * A job handler for one thread (a pool worker or the inline runner) that remembers the validated
 * objects of recent SecretProviderClasses, so pods of one class skip parsing and validation.
 */
export function createJobHandler(): (job: ComputeJob) => WorkerResult {
  const memo = new ValidatedObjectsMemo();
  return (job) => handleJob(job, memo);
}
