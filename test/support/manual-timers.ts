import type { StartTimer } from '../../src/core/ports/clock.js';

export interface ManualTimer {
  readonly ms: number;
  state: 'running' | 'expired' | 'cancelled';
  expire(): void;
}

/** Timers that expire only when the test says so; every started timer is kept, in order. */
export class ManualTimers {
  readonly started: ManualTimer[] = [];
  readonly start: StartTimer = (ms, expired) => {
    const timer: ManualTimer = {
      ms,
      state: 'running',
      expire: () => {
        if (timer.state !== 'running') throw new Error(`the timer is ${timer.state}`);
        timer.state = 'expired';
        expired();
      },
    };
    this.started.push(timer);
    return () => {
      if (timer.state === 'running') timer.state = 'cancelled';
    };
  };

  /** What each started timer asked for and where it stands, in order. */
  states(): Array<{ ms: number; state: ManualTimer['state'] }> {
    return this.started.map(({ ms, state }) => ({ ms, state }));
  }
}
