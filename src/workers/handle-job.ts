/**
 * The one function both runners execute: dispatches a WorkerJob to the pure core functions and
 * returns a WorkerResult. Never throws: every failure becomes `{ type: 'error' }` with the plain
 * form of the SecretletError, so the inline runner and the thread pool behave the same.
 */
import { toPlainError } from '../core/errors.js';
import type { PrepareOutcome } from '../core/ports/mount-worker.js';
import { renderFiles } from '../core/render/render-files.js';
import { identityFor, parseMountRequest, planMount } from '../core/spc/mount-request.js';
import type { MountRequestInput } from '../core/spc/mount-request.js';
import type { WorkerJob, WorkerResult } from './protocol.js';

function prepare(input: MountRequestInput, primaryRegion: string | undefined): PrepareOutcome {
  const parsed = parseMountRequest(input);
  const primary = parsed.regionParam !== '' ? parsed.regionParam : primaryRegion;
  if (primary === undefined || primary === '') return { kind: 'needsRegion', pod: parsed.pod };
  return { kind: 'planned', mount: { parsed, plan: planMount(parsed, primary), identity: identityFor(parsed) } };
}

export function handleJob(job: WorkerJob): WorkerResult {
  try {
    switch (job.type) {
      case 'ping':
        return { type: 'pong' };
      case 'prepare':
        return { type: 'prepared', outcome: prepare(job.input, job.primaryRegion) };
      case 'render':
        return { type: 'rendered', payload: renderFiles(job.plan, new Map(job.values)) };
    }
  } catch (e) {
    return { type: 'error', error: toPlainError(e) };
  }
}
