import { describe, expect, it } from 'vitest';
import { formatFloat32G, goQuote, parseJsonSafely } from './go-text.js';

describe('formatFloat32G (Go FormatFloat(f, g, -1, 32))', () => {
  it.each([
    [1.5, '1.5'],
    [3, '3'],
    [0.1, '0.1'],
    [3.14159265358979, '3.1415927'],
    [123456, '123456'],
    [1e6, '1e+06'],
    [1234567, '1.234567e+06'],
    [1e20, '1e+20'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-2.5, '-2.5'],
    [0, '0'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('%s → %s', (input, expected) => {
    expect(formatFloat32G(input)).toBe(expected);
  });
});

describe('goQuote', () => {
  it('quotes like %q', () => {
    expect(goQuote('sts.amazonaws.com')).toBe('"sts.amazonaws.com"');
    expect(goQuote('a"b\\c\nd\x01')).toBe('"a\\"b\\\\c\\nd\\x01"');
  });
});

describe('parseJsonSafely', () => {
  it('uses Go wording for empty input and never quotes the input', () => {
    expect(parseJsonSafely('')).toEqual({ ok: false, error: 'unexpected end of JSON input' });
    const bad = parseJsonSafely('{"tok": eyJsecretTOKEN');
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).not.toContain('eyJ');
  });
});
