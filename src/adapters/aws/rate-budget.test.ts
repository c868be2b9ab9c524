import { describe, expect, it } from 'vitest';
import { RateBudget, TokenBucket, defaultBudgets } from './rate-budget.js';
import { InstantClock, ManualClock } from './testing/fakes.js';

describe('defaultBudgets', () => {
  it('divides the account quotas by the fleet size', () => {
    const b = defaultBudgets(100);
    expect(b.BatchGetSecretValue.ratePerSec).toBe(1);
    expect(b.GetSecretValue.ratePerSec).toBe(100);
    expect(b.GetParameters.ratePerSec).toBeCloseTo(0.4);
    expect(defaultBudgets(10).BatchGetSecretValue.ratePerSec).toBe(10);
  });

  it('rejects a fleet size below one, naming the option', () => {
    expect(() => defaultBudgets(0)).toThrow(/options.fleetSize/);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then refills at the configured rate', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ ratePerSec: 2, burst: 3, clock });
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, true, false]);
    clock.advance(499);
    expect(bucket.tryTake()).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake()).toBe(true);
  });

  it('take() waits on the clock for the next token', async () => {
    const clock = new InstantClock();
    const bucket = new TokenBucket({ ratePerSec: 4, burst: 1, clock });
    await bucket.take();
    const before = clock.now();
    await bucket.take();
    expect(clock.now() - before).toBe(250);
  });

  it('RateBudget applies per-action overrides', () => {
    const clock = new ManualClock();
    const budget = new RateBudget({ clock, budgets: { BatchGetSecretValue: { burst: 1 } } });
    expect(budget.bucket('BatchGetSecretValue').tryTake()).toBe(true);
    expect(budget.bucket('BatchGetSecretValue').tryTake()).toBe(false);
    expect(budget.bucket('GetSecretValue').tryTake()).toBe(true);
  });
});
