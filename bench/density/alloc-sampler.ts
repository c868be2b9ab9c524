/**
 * Opt-in diagnosis for the agent process (`bench:density -- --alloc-profile <dir>`): what a phase
 * allocates, by call stack. GC was ~15 % of a burst's CPU, and a CPU profile shows the collector's
 * time, not who made the garbage. V8's sampling heap profiler, asked to keep the samples of objects
 * the young- and old-generation GCs already collected, records one allocation in about every
 * `SAMPLING_INTERVAL` bytes wherever it happened, so the profile counts garbage as well as survivors.
 * One `.heapprofile` per phase (Chrome DevTools opens it; `alloc-report.ts` summarises it). The
 * sampling costs CPU, so a sampled run's times are not compared with unsampled ones.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';

/** Bytes between samples on average; V8's default is 32 KiB, too coarse for a 2–5 s phase. */
const SAMPLING_INTERVAL = 8192;

export class AllocationSampler {
  readonly #dir: string;
  readonly #session = new Session();
  #phase: string | undefined;

  constructor(dir: string) {
    this.#dir = dir;
    this.#session.connect();
  }

  /** Starts sampling for `phase`; a phase still being sampled is dropped (its `stop` never came). */
  async start(phase: string): Promise<void> {
    if (this.#phase !== undefined) await this.#session.post('HeapProfiler.stopSampling');
    else await this.#session.post('HeapProfiler.enable');
    this.#phase = phase;
    await this.#session.post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL,
      // Both flags are in the DevTools protocol since V8 11 (node 20); older typings lack them.
      ...({ includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as object),
    });
  }

  /** Writes `<dir>/alloc-<pid>-<phase>.heapprofile`; returns its path, or undefined when not sampling. */
  async stop(): Promise<string | undefined> {
    const phase = this.#phase;
    if (phase === undefined) return undefined;
    this.#phase = undefined;
    const { profile } = await this.#session.post('HeapProfiler.stopSampling');
    const path = join(this.#dir, `alloc-${process.pid}-${phase}.heapprofile`);
    await writeFile(path, JSON.stringify(profile));
    return path;
  }

  close(): void {
    this.#session.disconnect();
  }
}
