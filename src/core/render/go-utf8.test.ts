import { describe, expect, it } from 'vitest';
import { decodeUtf8AsGo } from './go-utf8.js';

const bytes = (...b: number[]) => new Uint8Array(b);
const codePoints = (s: string) => [...s].map((c) => c.codePointAt(0)!.toString(16));

describe('decodeUtf8AsGo', () => {
  it('keeps valid UTF-8 as it is', () => {
    const text = 'a é € 😀';
    expect(decodeUtf8AsGo(new TextEncoder().encode(text))).toBe(text);
  });

  it.each([
    ['a truncated 3-byte sequence before ASCII', bytes(0xe2, 0x82, 0x41), ['fffd', 'fffd', '41']],
    ['a surrogate encoded in UTF-8', bytes(0xed, 0xa0, 0x80), ['fffd', 'fffd', 'fffd']],
    ['an overlong NUL', bytes(0xc0, 0x80), ['fffd', 'fffd']],
    ['a code point past U+10FFFF', bytes(0xf4, 0x90, 0x80, 0x80), ['fffd', 'fffd', 'fffd', 'fffd']],
    ['a lone continuation byte between valid text', bytes(0x61, 0x80, 0xc3, 0xa9), ['61', 'fffd', 'e9']],
  ])('replaces each byte of %s, as Go does', (_what, input, expected) => {
    expect(codePoints(decodeUtf8AsGo(input))).toEqual(expected);
  });
});
