/**
 * Checksummed JSON, the unit of the on-disk log: a record line and a snapshot file are both a JSON
 * object whose last member is `"crc":"<8 hex>"`, the CRC-32 (zlib/IEEE) of the exact bytes of the
 * object written without that member. Checking the raw text (not a re-serialisation) means a reader
 * in any language can verify a line with one regex and one CRC call.
 *
 * The checksum catches torn writes and bit rot; it is not an authenticity check.
 */
import { crc32 } from 'node:zlib';

const CRC_SUFFIX = /,"crc":"([0-9a-f]{8})"\}$/;

/** Serialises a plain object with a trailing crc member (no newline). */
export function sealJson(value: object): string {
  const body = JSON.stringify(value);
  if (!body.startsWith('{') || body === '{}') throw new TypeError('sealJson needs a non-empty object');
  return `${body.slice(0, -1)},"crc":"${crcHex(body)}"}`;
}

export type UnsealResult = { ok: true; value: Record<string, unknown> } | { ok: false; problem: 'bad-checksum' | 'bad-json' };

/** Verifies and parses text written by `sealJson`. */
export function unsealJson(text: string): UnsealResult {
  const match = CRC_SUFFIX.exec(text);
  if (match === null) return { ok: false, problem: looksLikeJson(text) ? 'bad-checksum' : 'bad-json' };
  const body = `${text.slice(0, match.index)}}`;
  if (crcHex(body) !== match[1]) return { ok: false, problem: 'bad-checksum' };
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, problem: 'bad-json' };
    return { ok: true, value: value as Record<string, unknown> };
  } catch {
    return { ok: false, problem: 'bad-json' };
  }
}

function crcHex(text: string): string {
  return crc32(text).toString(16).padStart(8, '0');
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
