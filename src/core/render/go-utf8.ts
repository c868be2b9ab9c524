/**
 * Bytes to text as Go's encoding/json reads a secret for jmesPath: valid UTF-8 as it is, and each
 * byte that does not start a valid sequence as one U+FFFD (utf8.DecodeRune's (RuneError, 1)). The
 * WHATWG decoder replaces a whole broken sequence with one U+FFFD instead, which would put other
 * bytes in a file rendered from such a value. A byte-order mark is kept (it is invalid JSON for both).
 */
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8AsGo(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    return decodeWithReplacement(bytes);
  }
}

/** Length of the valid UTF-8 sequence at `i` (Go's accepted ranges), or 0. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < bytes.length && bytes[i + k]! >= lo && bytes[i + k]! <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const [lo, hi] = b0 === 0xe0 ? [0xa0, 0xbf] : b0 === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const [lo, hi] = b0 === 0xf0 ? [0x90, 0xbf] : b0 === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

function decodeWithReplacement(bytes: Uint8Array): string {
  const parts: string[] = [];
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    parts.push(strict.decode(bytes.subarray(start, i)), '\uFFFD');
    i += 1;
    start = i;
  }
  parts.push(strict.decode(bytes.subarray(start)));
  return parts.join('');
}
