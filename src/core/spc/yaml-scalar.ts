/**
 * How ASCP's YAML decoder (sigs.k8s.io/yaml over go-yaml v2, i.e. YAML 1.1) reads a plain scalar,
 * and how it then turns that value into a string field. The `yaml` package's own 1.1 schema differs
 * in details users can hit (it reads `12:30` as sexagesimal 750 and `0o17` as a string; go-yaml v2
 * reads them as the string "12:30" and 15), so plain scalars are resolved here from their source.
 *
 * Resolution (go-yaml v2 `resolve`): the fixed words (y/yes/on/true…, n/no/off/false…, ~/null,
 * .inf/.nan) first; then, for text starting with a digit or sign, Go `ParseInt(s, 0, 64)` after
 * removing `_` (base prefixes 0x/0o/0b and a leading 0 for octal), `ParseUint`, then a YAML-style
 * float; everything else is a string.
 */
import { formatFloat32G } from './go-text.js';

export type YamlScalar =
  | { kind: 'null' }
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int'; value: bigint }
  | { kind: 'float'; value: number };

const TRUE_WORDS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']);
const FALSE_WORDS = new Set(['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']);
const NULL_WORDS = new Set(['', '~', 'null', 'Null', 'NULL']);
const SPECIAL_FLOATS: Record<string, number> = {
  '.nan': NaN, '.NaN': NaN, '.NAN': NaN,
  '.inf': Infinity, '.Inf': Infinity, '.INF': Infinity,
  '+.inf': Infinity, '+.Inf': Infinity, '+.INF': Infinity,
  '-.inf': -Infinity, '-.Inf': -Infinity, '-.INF': -Infinity,
};
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** Go `strconv.ParseUint(s, 0, 64)`'s digits, without the range check; undefined when invalid. */
function parseGoUnsigned(s: string): bigint | undefined {
  if (s === '') return undefined;
  let base = 10;
  let digits = s;
  if (s[0] === '0') {
    const p = s[1]?.toLowerCase();
    if (s.length >= 3 && (p === 'b' || p === 'o' || p === 'x')) {
      base = p === 'b' ? 2 : p === 'o' ? 8 : 16;
      digits = s.slice(2);
    } else {
      base = 8;
      digits = s.slice(1);
    }
  }
  const valid = base === 2 ? /^[01]*$/ : base === 8 ? /^[0-7]*$/ : base === 16 ? /^[0-9a-fA-F]*$/ : /^[0-9]+$/;
  if (!valid.test(digits)) return undefined;
  if (digits === '') return base === 8 ? 0n : undefined;
  const prefix = base === 2 ? '0b' : base === 8 ? '0o' : base === 16 ? '0x' : '';
  return BigInt(prefix + digits);
}

/** Go `strconv.ParseInt(s, 0, 64)`; undefined on syntax or range error. */
function parseGoInt(s: string): bigint | undefined {
  const negative = s.startsWith('-');
  const body = s.startsWith('-') || s.startsWith('+') ? s.slice(1) : s;
  const magnitude = parseGoUnsigned(body);
  if (magnitude === undefined) return undefined;
  const value = negative ? -magnitude : magnitude;
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

export function resolvePlainScalar(text: string): YamlScalar {
  if (NULL_WORDS.has(text)) return { kind: 'null' };
  if (TRUE_WORDS.has(text)) return { kind: 'bool', value: true };
  if (FALSE_WORDS.has(text)) return { kind: 'bool', value: false };
  const special = SPECIAL_FLOATS[text];
  if (special !== undefined && Object.hasOwn(SPECIAL_FLOATS, text)) return { kind: 'float', value: special };
  const first = text[0] ?? '';
  if (first === '.') {
    return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text) ? { kind: 'float', value: Number(text) } : { kind: 'string', value: text };
  }
  if (/[0-9+-]/.test(first)) {
    const plain = text.replaceAll('_', '');
    const int = parseGoInt(plain);
    if (int !== undefined) return { kind: 'int', value: int };
    const uint = parseGoUnsigned(plain);
    if (uint !== undefined && uint <= UINT64_MAX) return { kind: 'int', value: uint };
    // Go's ParseFloat fails (range error) where JavaScript overflows to Infinity: then it stays a string.
    if (YAML_STYLE_FLOAT.test(plain) && Number.isFinite(Number(plain))) return { kind: 'float', value: Number(plain) };
  }
  return { kind: 'string', value: text };
}

/** sigs.k8s.io/yaml's coercion of a scalar into a Go string field; null leaves the field "". */
export function scalarToGoString(scalar: YamlScalar): string {
  switch (scalar.kind) {
    case 'null':
      return '';
    case 'string':
      return scalar.value;
    case 'bool':
      return scalar.value ? 'true' : 'false';
    case 'int':
      return scalar.value.toString();
    case 'float':
      return formatFloat32G(scalar.value);
  }
}

/** The JSON kind Go's decoder names in type errors. */
export function scalarJsonKind(scalar: YamlScalar): string {
  return scalar.kind === 'int' || scalar.kind === 'float' ? 'number' : scalar.kind;
}
