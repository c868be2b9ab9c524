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

  it('asks shouldRetry only when a retry would otherwise happen, so it may reserve a budget token', async () => {
    const shouldRetry = vi.fn(() => true);
    const failing = vi.fn(() => Promise.reject(awsError('InternalServiceError', 500)));
    await expect(callWithRetries(policy(new InstantClock()), { action: 'BatchGetSecretValue', region: 'r', shouldRetry }, failing)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(failing).toHaveBeenCalledTimes(4);
    expect(shouldRetry).toHaveBeenCalledTimes(3); // not after the last attempt

    shouldRetry.mockClear();
    const denied = vi.fn(() => Promise.reject(new ResourceNotFoundException({ message: 'x', $metadata: {} })));
    await expect(callWithRetries(policy(new InstantClock()), { action: 'BatchGetSecretValue', region: 'r', shouldRetry }, denied)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(shouldRetry).not.toHaveBeenCalled();
  });

  it('does not retry a client fault', async () => {
    const call = vi.fn(() => Promise.reject(new ResourceNotFoundException({ message: 'x', $metadata: {} })));
    await expect(callWithRetries(policy(new InstantClock()), { action: 'GetSecretValue', region: 'r' }, call)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(call).toHaveBeenCalledTimes(1);
  });

  it('retries a timeout like any transient error', async () => {
    const clock = new InstantClock();
    const call = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }))
      .mockResolvedValueOnce('value');
    await expect(callWithRetries(policy(clock), { action: 'GetSecretValue', region: 'r' }, call)).resolves.toBe('value');
    expect(clock.sleeps).toEqual([50]);
  });

  it('gives up on timeouts after maxAttempts, still as DEADLINE_EXCEEDED', async () => {
    const call = vi.fn(() => Promise.reject(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })));
    await expect(callWithRetries(policy(new InstantClock()), { action: 'PodIdentityCredentials', region: 'r' }, call)).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      reason: 'AwsTimeout',
    });
    expect(call).toHaveBeenCalledTimes(4);
  });

  it('does not start a timed-out call again when another attempt as long would end past the time budget', async () => {
    const clock = new InstantClock();
    // Each attempt hangs for the whole 10 s request timeout before failing.
    const call = vi.fn(async () => {
      clock.t += 10_000;
      throw Object.assign(new Error('timed out'), { name: 'TimeoutError' });
    });
    await expect(callWithRetries({ ...policy(clock), timeoutBudgetMs: 25_000 }, { action: 'GetParameters', region: 'r' }, call)).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
    });
    expect(call).toHaveBeenCalledTimes(2);
  });

  it('does not retry a request that was aborted on purpose', async () => {
    const call = vi.fn(() => Promise.reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })));
    await expect(callWithRetries(policy(new InstantClock()), { action: 'GetSecretValue', region: 'r' }, call)).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
    });
    expect(call).toHaveBeenCalledTimes(1);
  });

  it('caps the backoff ceiling', () => {
    expect(backoffDelay({ random: () => 0.999, baseDelayMs: 100, maxDelayMs: 300 }, 10)).toBe(299);
  });
});
