/**
 * A reader for tests that races a payload writer: it loops over a set of files under a target on a
 * worker thread until stopped and records every observation a pod would notice: a file missing,
 * empty, without a version tag, or (by default) files of one pass carrying different versions.
 *
 * `versionOf` runs on the worker, so it is sent as source text: it must be self-contained (no
 * captured variables, no imports), e.g. `(text) => /^v(\d+):/.exec(text)?.[1]`.
 *
 * Passes during which `..data` was swapped are counted as `tornPasses` and not judged (see the
 * worker's header). `waitForPasses` lets a test interleave deterministically: "write, then wait
 * until the reader has completed another pass".
 */
import { Worker } from 'node:worker_threads';

export interface ConsistencyReaderOptions {
  dir: string;
  /** Paths relative to `dir`, read through its top-level names. */
  files: readonly string[];
  /** Extracts the version tag from a file's text; undefined means "no tag" (a violation). */
  versionOf: (contents: string) => string | undefined;
  /** @default true. False only checks for missing/empty/untagged files (per-file atomicity). */
  requireSameVersion?: boolean;
  /** How many violation descriptions to keep (all are counted). @default 50 */
  maxViolations?: number;
}

export interface ConsistencyReport {
  /** Judged passes (each read every file once). */
  reads: number;
  /** Passes skipped because `..data` changed while they ran. */
  tornPasses: number;
  violationCount: number;
  violations: string[];
}

export interface ConsistencyReader {
  /** Completed passes so far, judged or torn. */
  passes(): number;
  /** Resolves once `count` passes have completed; rejects after `timeoutMs` or if the worker died. */
  waitForPasses(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<ConsistencyReport>;
}

/** Node has `Atomics.waitAsync`, but the project's ES2023 lib does not declare it. */
interface AtomicsWithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: unknown };
}
const atomics = Atomics as unknown as AtomicsWithWaitAsync;

const STOP = 0;
const PASSES = 1;

export function startConsistencyReader(options: ConsistencyReaderOptions): ConsistencyReader {
  const control = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  const flags = new Int32Array(control);
  const worker = new Worker(new URL('./consistency-reader.worker.js', import.meta.url), {
    workerData: {
      dir: options.dir,
      files: [...options.files],
      versionOfSource: options.versionOf.toString(),
      requireSameVersion: options.requireSameVersion ?? true,
      maxViolations: options.maxViolations ?? 50,
      control,
    },
  });
  let failure: Error | undefined;
  const report = new Promise<ConsistencyReport>((resolve, reject) => {
    worker.once('message', (message: ConsistencyReport) => resolve(message));
    worker.once('error', (err) => {
      failure = err;
      reject(err);
    });
    worker.once('exit', (code) => reject(new Error(`consistency reader exited with code ${code} before reporting`)));
  });
  // Observed through stop()/waitForPasses(); this only keeps an early failure from being unhandled.
  report.catch(() => undefined);

  return {
    passes: () => Atomics.load(flags, PASSES),
    async waitForPasses(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (failure !== undefined) throw failure;
        const seen = Atomics.load(flags, PASSES);
        if (seen >= count) return;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`consistency reader: ${seen} of ${count} passes after ${timeoutMs} ms`);
        // Bounded wait, so a worker that died without notifying is noticed on the next round.
        const wait = atomics.waitAsync(flags, PASSES, seen, Math.min(left, 1_000));
        if (wait.async) await wait.value;
      }
    },
    async stop() {
      Atomics.store(flags, STOP, 1);
      try {
        return await report;
      } finally {
        await worker.terminate();
      }
    },
  };
}
