import { describe, expect, it } from 'vitest';
import { Turnstile } from './turnstile.js';

/** Records which event-loop turn (counted by a setImmediate ticker) each caller got through on. */
async function turnsOf(callers: number): Promise<number[]> {
  const gate = new Turnstile();
  let turn = 0;
  let ticking = true;
  const tick = (): void => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const passed = await Promise.all(Array.from({ length: callers }, () => gate.pass().then(() => turn)));
  ticking = false;
  return passed;
}

describe('Turnstile', () => {
  it('lets a burst through in arrival order, one caller per event-loop turn', async () => {
    const order: number[] = [];
    const gate = new Turnstile();
    await Promise.all([0, 1, 2, 3].map((i) => gate.pass().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);

    const turns = await turnsOf(5);
    // Strictly increasing: no two callers were released in the same turn.
    for (let i = 1; i < turns.length; i++) expect(turns[i]).toBeGreaterThan(turns[i - 1] ?? Infinity);
  });

  it('never releases a caller in the turn it called (its stamp is taken before its work starts)', async () => {
    const gate = new Turnstile();
    let released = false;
    const p = gate.pass().then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    expect(gate.waiting).toBe(1);
    await p;
    expect(gate.waiting).toBe(0);
  });
});
