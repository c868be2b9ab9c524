/**
 * Main-thread side of the protocol: turns a WorkerResult back into a value or a thrown
 * SecretletError (mapped by code from its plain form), and rejects a result of the wrong type.
 */
import { SecretletError, fromPlainError } from '../core/errors.js';
import type { PrepareOutcome } from '../core/ports/mount-worker.js';
import type { WriteOutcome } from '../core/ports/payload-writer.js';
import type { RenderedPayload } from '../core/render/render-files.js';
import type { WorkerResult } from './protocol.js';

function unexpected(expected: string, got: WorkerResult): SecretletError {
  return new SecretletError({ code: 'INTERNAL', reason: 'WorkerProtocol', message: `mount worker answered ${got.type} to a ${expected} job` });
}

export function preparedFrom(result: WorkerResult): PrepareOutcome {
  if (result.type === 'error') throw fromPlainError(result.error);
  if (result.type !== 'prepared') throw unexpected('prepare', result);
  return result.outcome;
}

export function renderedFrom(result: WorkerResult): RenderedPayload {
  if (result.type === 'error') throw fromPlainError(result.error);
  if (result.type !== 'rendered') throw unexpected('render', result);
  return result.payload;
}

export function writtenFrom(result: WorkerResult): WriteOutcome {
  if (result.type === 'error') throw fromPlainError(result.error);
  if (result.type !== 'written') throw unexpected('write', result);
  return { changed: result.changed, ...(result.skipped === undefined ? {} : { skipped: result.skipped }), ...(result.stamp === undefined ? {} : { stamp: result.stamp }) };
}
