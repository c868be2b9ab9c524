/**
 * A PayloadWriter whose writes run in the worker pool: the main thread only queues the job and
 * waits, the thread's own writer does the filesystem work (issue 5, item 1). Each thread's writer
 * serialises writes to a target only within that thread, so the lock that matters lives here, on
 * the main thread: two writes to one target never run at once, whichever threads they land on.
 * Failures come back as the writer's SecretletError (code, reason, field kept).
 */
import type { RenderedFile } from '../core/model.js';
import type { CallerSignal } from '../core/ports/caller-signal.js';
import type { PayloadWriter, WriteConditions, WriteOutcome } from '../core/ports/payload-writer.js';
import { TargetLocks } from '../adapters/fs/target-locks.js';
import type { WorkerResult, WriteJob, WriterKind } from './protocol.js';
import { writtenFrom } from './result-mapping.js';

export interface PooledPayloadWriterOptions {
  /** Which of the thread's writers does the work. */
  writer: WriterKind;
  /** Posts a job to the pool, e.g. `(job) => pool.runWrite(job)`. */
  run(job: WriteJob): Promise<WorkerResult>;
}

export class PooledPayloadWriter implements PayloadWriter {
  readonly #options: PooledPayloadWriterOptions;
  readonly #locks = new TargetLocks();

  constructor(options: PooledPayloadWriterOptions) {
    this.#options = options;
  }

  /**
   * The conditions are checked twice: here once the target's lock is ours (before the job is
   * queued), and by the thread when the job starts, since it may wait in the pool's queue past its
   * caller's deadline. The signal reaches the thread as a shared flag set on abort.
   */
  write(targetDir: string, files: readonly RenderedFile[], conditions?: WriteConditions): Promise<WriteOutcome> {
    return this.#locks.run(targetDir, async () => {
      const signal = conditions?.signal;
      if (signal?.aborted === true) return { changed: false, skipped: 'abandoned' };
      const flag = signal === undefined ? undefined : new Int32Array(new SharedArrayBuffer(4));
      const job: WriteJob = {
        type: 'write',
        writer: this.#options.writer,
        target: targetDir,
        files: files.map(compact),
        ...(conditions?.directory === undefined ? {} : { directory: conditions.directory }),
        ...(flag === undefined ? {} : { abandoned: flag }),
      };
      // The doors' signals are AbortSignals; a bare CallerSignal is checked before queueing only.
      const events = signal !== undefined && isEventTarget(signal) ? signal : undefined;
      const abandon = (): void => void (flag !== undefined && Atomics.store(flag, 0, 1));
      events?.addEventListener('abort', abandon, { once: true });
      try {
        return writtenFrom(await this.#options.run(job));
      } finally {
        events?.removeEventListener('abort', abandon);
      }
    });
  }
}

/**
 * Structured clone copies a view's whole ArrayBuffer: a small Buffer sliced from Node's shared
 * 8 KiB pool would carry unrelated bytes (possibly other payloads) to the thread. Contents that do
 * not span their buffer are copied to one that fits; the caller's arrays are never detached.
 */
function compact(file: RenderedFile): RenderedFile {
  const c = file.contents;
  if (c.byteOffset === 0 && c.byteLength === c.buffer.byteLength) return file;
  return { path: file.path, mode: file.mode, contents: new Uint8Array(c) };
}

function isEventTarget(signal: CallerSignal): signal is CallerSignal & Pick<AbortSignal, 'addEventListener' | 'removeEventListener'> {
  return typeof (signal as Partial<AbortSignal>).addEventListener === 'function';
}
