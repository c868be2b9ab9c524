/**
 * Opt-in diagnosis for the agent process (`bench:density -- --loop-trace`): where a phase's
 * event-loop delay comes from. `monitorEventLoopDelay`'s p99 is one number, about a phase's
 * third-largest stall; this keeps the stalls themselves and the GC pauses inside them. A 2 ms
 * interval timer notes every gap over 10 ms between its ticks (a loop turn that long), and a
 * PerformanceObserver notes every GC pause. It adds ~500 timer wakeups a second to the agent, so the
 * figures of a traced run are not compared with untraced ones.
 */
import { PerformanceObserver } from 'node:perf_hooks';

const TICK_MS = 2;
const STALL_MS = 10;

export interface LoopTrace {
  /** Loop turns longer than 10 ms / 20 ms in the phase, and the time they took together. */
  stallsOver10Ms: number;
  stallsOver20Ms: number;
  stalledMs: number;
  /** The five longest, with when they started (ms after the phase began). */
  longestStalls: Array<{ atMs: number; ms: number }>;
  /** GC pauses in the phase: how many, their sum, the longest, and how many over 10 ms. */
  gc: { pauses: number; totalMs: number; longestMs: number; over10Ms: number };
}

export class LoopTracer {
  #phaseStart = performance.now();
  #last = performance.now();
  #stalls: Array<{ atMs: number; ms: number }> = [];
  #gcs: number[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #observer: PerformanceObserver;

  constructor() {
    this.#timer = setInterval(() => {
      const now = performance.now();
      // The turn that held the loop is the gap beyond the timer's own period.
      const stall = now - this.#last - TICK_MS;
      if (stall > STALL_MS) this.#stalls.push({ atMs: Math.round(this.#last - this.#phaseStart), ms: Math.round(stall) });
      this.#last = now;
    }, TICK_MS);
    this.#timer.unref();
    this.#observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.#gcs.push(e.duration);
    });
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  /** Starts a new phase. */
  reset(): void {
    this.#phaseStart = performance.now();
    this.#stalls = [];
    this.#gcs = [];
  }

  summary(): LoopTrace {
    const round = (n: number): number => Math.round(n * 10) / 10;
    return {
      stallsOver10Ms: this.#stalls.length,
      stallsOver20Ms: this.#stalls.filter((s) => s.ms > 20).length,
      stalledMs: this.#stalls.reduce((n, s) => n + s.ms, 0),
      longestStalls: [...this.#stalls].sort((a, b) => b.ms - a.ms).slice(0, 5),
      gc: {
        pauses: this.#gcs.length,
        totalMs: round(this.#gcs.reduce((n, d) => n + d, 0)),
        longestMs: round(Math.max(0, ...this.#gcs)),
        over10Ms: this.#gcs.filter((d) => d > 10).length,
      },
    };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#observer.disconnect();
  }
}
