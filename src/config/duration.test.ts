import { describe, expect, it } from 'vitest';
import { SecretletError } from '../core/errors.js';
import { compileAgentOptions } from './agent-options.js';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['1m30s', 90_000],
    ['2m0s', 120_000],
    ['1h0m0s', 3_600_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['1500us', 2], // whole milliseconds
    ['1500µs', 2],
    ['.5s', 500],
    ['0', 0],
    ['0s', 0],
    // secretlet's own forms, kept: unitless seconds and single-unit values.
    ['90', 90_000],
    ['2m', 120_000],
    ['10ms', 10],
  ])("reads Go's %s as %d ms", (text, ms) => {
    expect(parseDuration(text, 'rotationInterval')).toBe(ms);
  });

  it.each(['1x', 'm', '', '1m30', '1.2.3s', '+1s', 's1', '1 m'])('refuses %j naming the option', (text) => {
    expect(() => parseDuration(text, 'rotationInterval')).toThrow(`options.rotationInterval must be a duration like 300ms, 90s, 1m30s, 2m or 1h (got "${text}")`);
  });

  it('refuses a negative interval, naming the option', () => {
    let caught: unknown;
    try {
      parseDuration('-1s', 'rotationInterval');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SecretletError);
    expect(caught).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'rotationInterval', message: 'options.rotationInterval must not be negative (got "-1s")' });
  });

  it('refuses a positive duration that would round to 0 (which turns rotation off)', () => {
    expect(() => parseDuration('1ns', 'rotationInterval')).toThrow('options.rotationInterval must be 0 or at least 1ms (got "1ns")');
  });

  it('refuses a duration past the longest timer Node keeps (it would fire after 1 ms)', () => {
    expect(parseDuration('596h', 'rotationInterval')).toBe(2_145_600_000);
    expect(() => parseDuration('1000h', 'rotationInterval')).toThrow('options.rotationInterval must be at most 596h, the longest timer (got "1000h")');
  });

  it('is the grammar of the agent options, as the upstream driver DaemonSet passes them', () => {
    const o = compileAgentOptions({ mode: 'provider', rotationInterval: '1m30s', drainTimeout: '1m0s', coalesceWindow: '2ms500us' });
    expect(o.rotationIntervalMs).toBe(90_000);
    expect(o.drainTimeoutMs).toBe(60_000);
    expect(o.coalesceWindowMs).toBe(3);
    expect(() => compileAgentOptions({ mode: 'provider', drainTimeout: '-1s' })).toThrow('options.drainTimeout must not be negative');
  });
});
