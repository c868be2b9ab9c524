/** Time, injected so tests control it. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/**
 * Starts a one-shot timer: calls `expired` after `ms` unless the returned cancel function is called
 * first. Injected where a deadline must be testable without waiting (tests expire it when they choose).
 */
export type StartTimer = (ms: number, expired: () => void) => () => void;
