import { describe, expect, it, vi } from 'vitest';
import { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { backoffDelay, callWithRetries } from './retry.js';
import type { RetryPolicy } from './retry.js';
import { CountingObserver } from './observer.js';
import { InstantClock, awsError } from './testing/fakes.js';

function policy(clock: InstantClock, observer = new CountingObserver()): RetryPolicy {
  return { clock, random: () => 0.5, observer, maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300 };
}

describe('callWithRetries', () => {
  it('retries throttling with full-jitter exponential backoff until it succeeds', async () => {
    const clock = new InstantClock();
    const observer = new CountingObserver();
    const call = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(awsError('ThrottlingException', 400))
      .mockRejectedValueOnce(awsError('InternalServiceError', 500))
      .mockResolvedValueOnce('value');
    await expect(callWithRetries(policy(clock, observer), { action: 'GetSecretValue', region: 'r' }, call)).resolves.toBe('value');
    expect(clock.sleeps).toEqual([50, 100]);
    expect(observer.snapshot()).toMatchObject({ getSecretValueCalls: 3, throttledCalls: 1 });
  });

  it('gives up after maxAttempts with the mapped error', async () => {
    const clock = new InstantClock();
    const call = vi.fn(() => Promise.reject(awsError('ThrottlingException', 400)));
    await expect(callWithRetries(policy(clock), { action: 'GetSecretValue', region: 'r', objectId: 'a' }, call)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      reason: 'Throttled',
    });
    expect(call).toHaveBeenCalledTimes(4);
  });

  it('does not retry a client fault', async () => {
    const call = vi.fn(() => Promise.reject(new ResourceNotFoundException({ message: 'x', $metadata: {} })));
    await expect(callWithRetries(policy(new InstantClock()), { action: 'GetSecretValue', region: 'r' }, call)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(call).toHaveBeenCalledTimes(1);
  });

  it('caps the backoff ceiling', () => {
    expect(backoffDelay({ random: () => 0.999, baseDelayMs: 100, maxDelayMs: 300 }, 10)).toBe(299);
  });
});
