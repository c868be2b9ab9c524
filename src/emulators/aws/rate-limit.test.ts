import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst equal to the rate, then refills continuously', () => {
    let now = 0;
    const limiter = new RateLimiter({ now: () => now, limits: { GetParameters: 4 } });
    expect([1, 2, 3, 4, 5].map(() => limiter.tryTake('GetParameters', 'r'))).toEqual([true, true, true, true, false]);
    now += 250;
    expect(limiter.tryTake('GetParameters', 'r')).toBe(true);
    expect(limiter.tryTake('GetParameters', 'r')).toBe(false);
    expect(limiter.tryTake('GetSecretValue', 'r')).toBe(true); // unlimited action
  });

  it('takes nothing when one of two covering buckets is empty', () => {
    const limiter = new RateLimiter({ now: () => 0, limits: { 'A+B': 2, A: 1 } });
    expect(limiter.tryTake('A', 'r')).toBe(true);
    expect(limiter.tryTake('A', 'r')).toBe(false); // A's own bucket is empty; A+B keeps its token
    expect(limiter.tryTake('B', 'r')).toBe(true);
    expect(limiter.tryTake('B', 'r')).toBe(false);
  });

  it('lets a rate below one call per second serve one call, then one per 1/rate seconds', () => {
    let now = 0;
    const limiter = new RateLimiter({ now: () => now, limits: { GetSecretValue: 0.5 } });
    expect(limiter.tryTake('GetSecretValue', 'r')).toBe(true);
    expect(limiter.tryTake('GetSecretValue', 'r')).toBe(false);
    now += 1000; // half a token back
    expect(limiter.tryTake('GetSecretValue', 'r')).toBe(false);
    now += 1000;
    expect(limiter.tryTake('GetSecretValue', 'r')).toBe(true);
    now += 60_000; // an idle minute still banks only one call
    expect([1, 2].map(() => limiter.tryTake('GetSecretValue', 'r'))).toEqual([true, false]);
  });

  it('rejects a non-positive rate', () => {
    const limiter = new RateLimiter({ now: () => 0 });
    expect(() => limiter.set('A', 0)).toThrow(RangeError);
  });
});
