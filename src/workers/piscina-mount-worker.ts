/**
 * The MountWorker on a piscina thread pool. Jobs and results are plain data (protocol.ts); a full
 * queue is reported as RESOURCE_EXHAUSTED so the door answers it as a retryable overload, not a
 * crash. Under tsx/vitest the worker entry is TypeScript and the threads load tsx; compiled, the
 * .js next to this file is used.
 *
 * A thread that dies (process.exit, an uncaught error, out of memory) is replaced by piscina. The
 * jobs it was running fail with that error, which `#run` turns into an INTERNAL SecretletError. A
 * thread that dies with no job makes piscina emit 'error' on the pool, and an 'error' event nobody
 * listens to is thrown on the main thread: it would kill the agent (and every mount on the node)
 * for one lost idle thread. So the pool always has a listener, which counts the failure and hands
 * it to `onThreadError` (the agent's log), or, with no hook, to process.emitWarning so it still
 * reaches stderr. Piscina also emits 'error' when close() times out waiting for running jobs.
 */
import { Piscina } from 'piscina';
import { SecretletError } from '../core/errors.js';
import type { FetchedObject, MountPlan } from '../core/model.js';
import type { MountWorker, PrepareOutcome } from '../core/ports/mount-worker.js';
import type { RenderedPayload } from '../core/render/render-files.js';
import type { MountRequestInput } from '../core/spc/mount-request.js';
import type { WorkerJob, WorkerResult, WriteJob } from './protocol.js';
import { preparedFrom, renderedFrom } from './result-mapping.js';

export interface PiscinaMountWorkerOptions {
  /** Threads kept running (min = max: mounts come in bursts, thread start-up is not free). */
  threads: number;
  /** Jobs allowed to wait for a thread; beyond it a mount fails with RESOURCE_EXHAUSTED. */
  maxQueue: number;
  /** The threads' entry module instead of mount-worker-thread (tests: a thread that crashes). */
  threadEntry?: URL;
  /**
   * Told when a thread fails outside any job (the pool replaces it). Must not throw.
   * @default process.emitWarning
   */
  onThreadError?: (error: SecretletError) => void;
}

function workerEntry(override?: URL): { filename: string; execArgv: string[] } {
  const own = import.meta.url.endsWith('.ts') ? './mount-worker-thread.ts' : './mount-worker-thread.js';
  const filename = (override ?? new URL(own, import.meta.url)).href;
  return { filename, execArgv: filename.endsWith('.ts') ? ['--import', 'tsx'] : [] };
}

export class PiscinaMountWorker implements MountWorker {
  readonly #options: PiscinaMountWorkerOptions;
  /** Started on the first job, so building an agent that never starts spawns no threads. */
  #pool: Piscina<WorkerJob, WorkerResult> | undefined;
  #closed = false;
  #threadFailures = 0;

  constructor(options: PiscinaMountWorkerOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new TypeError('PiscinaMountWorker needs at least one thread');
    this.#options = options;
  }

  #started(): Piscina<WorkerJob, WorkerResult> {
    if (this.#closed) throw new SecretletError({ code: 'UNAVAILABLE', reason: 'WorkerClosed', message: 'mount worker pool is closed' });
    if (this.#pool === undefined) {
      const entry = workerEntry(this.#options.threadEntry);
      this.#pool = new Piscina<WorkerJob, WorkerResult>({
        filename: entry.filename,
        execArgv: entry.execArgv,
        minThreads: this.#options.threads,
        maxThreads: this.#options.threads,
        maxQueue: this.#options.maxQueue,
        // No task leaves anything running when it is answered (write jobs wait out the writers'
        // setImmediate hand-over first, mount-worker-thread.ts), so blocking on Atomics between
        // tasks is safe and wakes a thread faster than a message-port round trip. Were a task to
        // leave work pending, 'sync' would only delay it to the next task; 'async' would then be needed.
        atomics: 'sync',
      });
      this.#pool.on('error', (e: unknown) => this.#onPoolError(e));
    }
    return this.#pool;
  }

  /** Threads that failed outside a job since the pool started (each one was replaced). */
  get threadFailures(): number {
    return this.#threadFailures;
  }

  #onPoolError(e: unknown): void {
    this.#threadFailures++;
    const error = new SecretletError({
      code: 'INTERNAL',
      reason: 'WorkerThreadFailed',
      message: `mount worker thread failed outside a job: ${e instanceof Error ? e.message : String(e)}`,
      cause: e,
    });
    const report = this.#options.onThreadError;
    if (report === undefined) {
      process.emitWarning(error.message, { code: 'SECRETLET_WORKER_THREAD_FAILED' });
      return;
    }
    try {
      report(error);
    } catch {
      // A throwing hook inside an 'error' listener would crash the agent, the very thing this avoids.
    }
  }

  async start(): Promise<void> {
    this.#started();
    // One probe per thread; piscina hands concurrent tasks to idle threads, so each one loads.
    const probes = Array.from({ length: this.#options.threads }, () => this.#run({ type: 'ping' }));
    for (const r of await Promise.all(probes)) {
      if (r.type !== 'pong') throw new SecretletError({ code: 'INTERNAL', reason: 'WorkerProtocol', message: `mount worker answered ${r.type} to a ping` });
    }
  }

  async #run(job: WorkerJob): Promise<WorkerResult> {
    try {
      return await this.#started().run(job);
    } catch (e) {
      if (e instanceof SecretletError) throw e;
      const message = e instanceof Error ? e.message : String(e);
      const full = /queue is at limit/i.test(message);
      throw new SecretletError({
        code: full ? 'RESOURCE_EXHAUSTED' : 'INTERNAL',
        reason: full ? 'WorkerQueueFull' : 'WorkerFailed',
        message: full ? 'mount worker queue is full; retry later' : `mount worker failed: ${message}`,
        cause: e,
      });
    }
  }

  async prepare(input: MountRequestInput, primaryRegion?: string): Promise<PrepareOutcome> {
    return preparedFrom(await this.#run({ type: 'prepare', input, ...(primaryRegion === undefined ? {} : { primaryRegion }) }));
  }

  async render(plan: MountPlan, values: ReadonlyMap<number, FetchedObject>): Promise<RenderedPayload> {
    return renderedFrom(await this.#run({ type: 'render', plan, values: [...values] }));
  }

  /**
   * Runs a payload write in a thread: the narrow door PooledPayloadWriter uses (not on the core
   * MountWorker port, which knows nothing of writes). Shares the pool's queue bound with mounts.
   */
  runWrite(job: WriteJob): Promise<WorkerResult> {
    return this.#run(job);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
  }
}
