/**
 * The real Clock (wall time and timers) used when the composition root injects none. Tests pass a
 * manual clock instead, so nothing in this adapter sleeps for real under test.
 */
import type { Clock } from '../../core/ports/clock.js';

export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref?.()),
  };
}
