import { describe, expect, it } from 'vitest';
import { RateBudget, TokenBucket, defaultBudgets, describeBudgets } from './rate-budget.js';
import { InstantClock, ManualClock } from './testing/fakes.js';

describe('defaultBudgets', () => {
  it('divides the account quotas by the fleet size', () => {
    const b = defaultBudgets(100);
    expect(b.BatchGetSecretValue.ratePerSec).toBe(1);
    expect(b.GetSecretValue.ratePerSec).toBe(100);
    expect(b.GetParameters.ratePerSec).toBeCloseTo(0.4);
    expect(defaultBudgets(10).BatchGetSecretValue.ratePerSec).toBe(10);
  });

  it("uses the account's own quota where it names one (SSM higher throughput), still divided by the fleet size", () => {
    const b = defaultBudgets(100, { GetParameters: 3000 });
    expect(b.GetParameters).toEqual({ ratePerSec: 30, burst: 300 });
    expect(b.BatchGetSecretValue).toEqual(defaultBudgets(100).BatchGetSecretValue);
  });

  it('reads as the start-up log shows it', () => {
    expect(describeBudgets(defaultBudgets(100, { GetParameters: 3000 }))).toEqual({
      BatchGetSecretValue: '1/s, burst 10',
      GetSecretValue: '100/s, burst 1000',
      GetParameters: '30/s, burst 300',
      AssumeRoleWithWebIdentity: '1/s, burst 10',
    });
    expect(describeBudgets(defaultBudgets(3)).GetParameters).toBe('13.3333/s, burst 134');
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

  it('RateBudget lets a raised quota through at once where the default would make it wait', () => {
    const clock = new ManualClock();
    const takeAll = (budget: RateBudget): number => {
      let n = 0;
      while (n < 1000 && budget.bucket('GetParameters').tryTake()) n += 1;
      return n;
    };
    // fleetSize 1: the default 40/s allows a burst of 400; a 3000/s quota one of 30,000.
    expect(takeAll(new RateBudget({ clock, fleetSize: 1 }))).toBe(400);
    expect(takeAll(new RateBudget({ clock, fleetSize: 1, accountQuotas: { GetParameters: 3000 } }))).toBe(1000);
  });
});
