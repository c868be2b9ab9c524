/** Time, injected so tests control it. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
