/**
 * Go formatting and decoding texts that ASCP's error messages and YAML coercions depend on
 * (`%q`, `strconv.FormatFloat(f, 'g', -1, 32)`, `encoding/json` error wording). Kept in one place
 * so every parser produces the same wording as the Go provider.
 *
 * Nothing here ever echoes the input it failed on: V8's JSON.parse messages quote the input (which
 * may hold a token), so syntax errors are reduced to a position.
 */

/** Go `strconv.Quote` (`%q`) for the printable-ASCII-and-Unicode cases that occur in names. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * Go `strconv.FormatFloat(x, 'g', -1, 32)`: the shortest decimal that round-trips through float32,
 * in %e form when the exponent is < -4 or >= 6 (Go uses precision 6 for the shortest form).
 * This is how sigs.k8s.io/yaml turns a YAML float into a string field (`1.5` → "1.5", `1e6` → "1e+06").
 */
export function formatFloat32G(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  const f = Math.fround(x);
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  let mantissa = '';
  let exp = 0;
  for (let p = 1; p <= 9; p++) {
    const candidate = f.toExponential(p - 1);
    if (Math.fround(Number(candidate)) === f) {
      const [m = '', e = '0'] = candidate.split('e');
      mantissa = m;
      exp = Number(e);
      break;
    }
  }
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '').replace(/0+$/, '') || '0';
  const sign = negative ? '-' : '';
  if (exp < -4 || exp >= 6) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return frac === '' ? `${sign}${intPart}` : `${sign}${intPart}.${frac}`;
}

/** The JSON type name Go's decoder uses in "cannot unmarshal X into ..." errors. */
export function goJsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

export type JsonParseOutcome = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * JSON.parse with a Go-like error text (`unexpected end of JSON input`, `invalid character ...`)
 * that never quotes the input.
 */
export function parseJsonSafely(text: string): JsonParseOutcome {
  if (text.trim() === '') return { ok: false, error: 'unexpected end of JSON input' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    const message = e instanceof Error ? e.message : '';
    if (/Unexpected end of JSON input|Unterminated string/i.test(message)) {
      return { ok: false, error: 'unexpected end of JSON input' };
    }
    const position = /at position (\d+)/.exec(message)?.[1];
    return { ok: false, error: position === undefined ? 'invalid character in JSON input' : `invalid character at offset ${position}` };
  }
}

const PARSE_BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const PARSE_BOOL_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's `strconv.ParseBool`: the value, or undefined where Go returns a syntax error. */
export function goParseBool(value: string): boolean | undefined {
  if (PARSE_BOOL_TRUE.has(value)) return true;
  if (PARSE_BOOL_FALSE.has(value)) return false;
  return undefined;
}
