/**
 * Evaluates a jmesPath expression over a secret decoded as Go decodes it (objects without a
 * prototype, keys in Go's order): jmespath.js's tree interpreter and its 26 functions, ported.
 *
 * Why not jmespath.js's `search`: its interpreter assumes objects inherit from Object.prototype.
 * Its truthiness test calls `obj.hasOwnProperty(key)`, which throws on a prototype-less object (so
 * `a || b`, `a && b`, `!a` and `[?…]` failed on every non-empty object) and on any object whose
 * data has a key `hasOwnProperty`; its `merge()` and `==` keep keys in plain `{}`, where a
 * `__proto__` key sets the prototype instead of storing data. Those helpers are private to its
 * closure, so they cannot be swapped in place. The parser (`compile`) is still jmespath.js's, so
 * the grammar, and what it refuses, are unchanged.
 *
 * The port keeps jmespath.js's behaviour (messages, slices, …) except where it differs from
 * go-jmespath 0.4.0 (ASCP's), which wins: an object is false only when empty, `==` compares
 * content, every object built here (literals, `merge`, `{a: …}`) is prototype-less with its keys in
 * Go's order, like the decoded secret; `sort`, `max`, `min`, `max_by`, `min_by` and `sort_by` order
 * numbers numerically and strings by bytes, and answer one element without evaluating its key;
 * `starts_with` is a prefix test; `<`, `<=`, `>`, `>=` on anything but two numbers are null;
 * `contains` of a non-string in a string is false; `length` and `reverse` count code points;
 * `to_number` parses as Go's ParseFloat (`''` is null). Still different: `to_string` of an object
 * or array does not escape <, > and & as Go's json.Marshal does.
 */
import { compile } from 'jmespath';
import { compareIds } from './go-order.js';
import type { JmesAstNode } from './jmes-bound.js';

type JmesObject = Record<string, unknown>;
type AstChild = JmesAstNode | number | null;

/** A `&expr` argument; a class so no data object can pass for one (jmespath.js tags a plain object). */
class ExpRef {
  constructor(readonly node: JmesAstNode) {}
}


/**
 * A prototype-less object holding `source`'s own keys in Go's order. Without a prototype, a key
 * `__proto__` is stored as data and `constructor`, `toString` … are absent unless the data has them.
 */
export function goObject(source: JmesObject): JmesObject {
  const out = Object.create(null) as JmesObject;
  for (const k of Object.keys(source).sort(compareIds)) out[k] = source[k];
  return out;
}

/** Go's ordering of two numbers or two strings (strings by their UTF-8 bytes); -1, 0 or 1. */
function compareGo(a: number | string, b: number | string): number {
  if (typeof a === 'string' && typeof b === 'string') return Math.sign(compareIds(a, b));
  return a < b ? -1 : a > b ? 1 : 0;
}

function isArray(value: unknown): value is unknown[] {
  return Array.isArray(value);
}

function isObject(value: unknown): value is JmesObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof ExpRef);
}

/** go-jmespath's isFalse: null, false, "", [] and {} are false. Own keys only, never a method of the value. */
function isFalse(value: unknown): boolean {
  if (value === '' || value === false || value === null) return true;
  if (isArray(value)) return value.length === 0;
  if (isObject(value)) return Object.keys(value).length === 0;
  return false;
}

/** go-jmespath's `==` (reflect.DeepEqual on decoded JSON): by content, keys compared as own keys. */
function strictDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isArray(a)) {
    if (!isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => strictDeepEqual(x, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.hasOwn(b, k) && strictDeepEqual(a[k], b[k]));
  }
  return false;
}

/** A literal's value as the secret's values are: its objects prototype-less, keys in Go's order. */
function asGoValue(value: unknown): unknown {
  if (isArray(value)) return value.map(asGoValue);
  if (isObject(value)) {
    const converted: JmesObject = Object.create(null) as JmesObject;
    for (const k of Object.keys(value)) converted[k] = asGoValue(value[k]);
    return goObject(converted);
  }
  return value;
}

type TypeName = 'number' | 'any' | 'string' | 'array' | 'object' | 'boolean' | 'expref' | 'null' | 'Array<number>' | 'Array<string>';

function typeName(value: unknown): TypeName | undefined {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (value === null) return 'null';
  if (isArray(value)) return 'array';
  if (value instanceof ExpRef) return 'expref';
  if (isObject(value)) return 'object';
  return undefined;
}

interface ArgSpec {
  types: TypeName[];
  variadic?: boolean;
}

function typeMatches(actual: TypeName | undefined, expected: TypeName, arg: unknown): boolean {
  if (expected === 'any') return true;
  if (expected === 'Array<number>' || expected === 'Array<string>') {
    if (actual !== 'array') return false;
    const sub = expected === 'Array<number>' ? 'number' : 'string';
    return (arg as unknown[]).every((x) => typeName(x) === sub);
  }
  return actual === expected;
}

function validateArgs(name: string, args: unknown[], signature: ArgSpec[]): void {
  const plural = signature.length === 1 ? ' argument' : ' arguments';
  if (signature[signature.length - 1]!.variadic === true) {
    if (args.length < signature.length) {
      throw new Error(`ArgumentError: ${name}() takes at least${signature.length}${plural} but received ${args.length}`);
    }
  } else if (args.length !== signature.length) {
    throw new Error(`ArgumentError: ${name}() takes ${signature.length}${plural} but received ${args.length}`);
  }
  signature.forEach((spec, i) => {
    const actual = typeName(args[i]);
    if (!spec.types.some((t) => typeMatches(actual, t, args[i]))) {
      throw new Error(`TypeError: ${name}() expected argument ${i + 1} to be type ${spec.types.join(',')} but received type ${actual} instead.`);
    }
  });
}

function capSliceRange(length: number, value: number, step: number): number {
  if (value < 0) {
    value += length;
    if (value < 0) value = step < 0 ? -1 : 0;
  } else if (value >= length) {
    value = step < 0 ? length - 1 : length;
  }
  return value;
}

function sliceParams(length: number, params: AstChild[]): [number, number, number] {
  const [start, stop, stepParam] = params as Array<number | null>;
  const step = stepParam ?? 1;
  if (step === 0) throw new Error('Invalid slice, step cannot be 0');
  const negative = step < 0;
  return [
    start === null || start === undefined ? (negative ? length - 1 : 0) : capSliceRange(length, start, step),
    stop === null || stop === undefined ? (negative ? -1 : length) : capSliceRange(length, stop, step),
    step,
  ];
}

type JmesFunction = (args: unknown[]) => unknown;

/** One evaluation: the interpreter and its function table (map, sort_by … call back into it). */
class Interpreter {
  // Weak: one interpreter serves every evaluation, and each compile makes new nodes.
  private readonly literals = new WeakMap<JmesAstNode, unknown>();
  private readonly functions: Record<string, { fn: JmesFunction; signature: ArgSpec[] }>;

  constructor() {
    const keyFunction = (ref: ExpRef, allowed: TypeName[]) => (x: unknown): number | string => {
      const current = this.visit(ref.node, x);
      const t = typeName(current);
      if (t === undefined || !allowed.includes(t)) throw new Error(`TypeError: expected one of ${allowed.join(',')}, received ${t}`);
      return current as number | string;
    };
    // go-jmespath's max_by / min_by: null for an empty array; the keys must be all numbers or all
    // strings (strings compare by bytes, as Go's <); the first record wins a tie.
    const extremeBy = (args: unknown[], pick: 'max' | 'min'): unknown => {
      const records = args[0] as unknown[];
      if (records.length === 0) return null;
      // Go answers a lone record without evaluating its key.
      if (records.length === 1) return records[0];
      const key = keyFunction(args[1] as ExpRef, ['number', 'string']);
      const keys = records.map(key);
      const kind = typeof keys[0];
      if (keys.some((k) => typeof k !== kind)) throw new Error('TypeError: invalid type, must be number of string');
      let best = 0;
      for (let i = 1; i < keys.length; i++) {
        const order = compareGo(keys[i]!, keys[best]!);
        if (pick === 'max' ? order > 0 : order < 0) best = i;
      }
      return records[best];
    };
    // go-jmespath's max / min: numbers numerically, strings by bytes (not by locale); null when empty.
    const extreme = (list: Array<number | string>, pick: 'max' | 'min'): unknown => {
      if (list.length === 0) return null;
      let best = list[0]!;
      for (const x of list.slice(1)) {
        const order = compareGo(x, best);
        if (pick === 'max' ? order > 0 : order < 0) best = x;
      }
      return best;
    };
    const fn = (f: JmesFunction, ...signature: ArgSpec[]) => ({ fn: f, signature });
    const t = (...types: TypeName[]): ArgSpec => ({ types });
    this.functions = {
      abs: fn((a) => Math.abs(a[0] as number), t('number')),
      avg: fn((a) => (a[0] as number[]).reduce((s, x) => s + x, 0) / (a[0] as number[]).length, t('Array<number>')),
      ceil: fn((a) => Math.ceil(a[0] as number), t('number')),
      // Go: a string contains only strings (anything else is false); an array compares elements with ==.
      contains: fn((a) => (typeof a[0] === 'string' ? typeof a[1] === 'string' && a[0].includes(a[1]) : (a[0] as unknown[]).includes(a[1])), t('string', 'array'), t('any')),
      ends_with: fn((a) => (a[0] as string).endsWith(a[1] as string), t('string'), t('string')),
      floor: fn((a) => Math.floor(a[0] as number), t('number')),
      // A string's length in code points, as Go counts runes (not UTF-16 units).
      length: fn((a) => (isObject(a[0]) ? Object.keys(a[0]).length : typeof a[0] === 'string' ? [...a[0]].length : (a[0] as unknown[]).length), t('string', 'array', 'object')),
      map: fn((a) => (a[1] as unknown[]).map((x) => this.visit((a[0] as ExpRef).node, x)), t('expref'), t('array')),
      max: fn((a) => extreme(a[0] as Array<number | string>, 'max'), t('Array<number>', 'Array<string>')),
      // go-jmespath's merge: later objects win; the result is a prototype-less object like the secret's.
      merge: fn((a) => {
        const merged = Object.create(null) as JmesObject;
        for (const o of a) {
          // Go asserts every argument is an object (it panics otherwise); refuse rather than spread a string's indexes.
          if (!isObject(o)) throw new Error('TypeError: merge() expected objects');
          for (const k of Object.keys(o)) merged[k] = o[k];
        }
        return goObject(merged);
      }, { types: ['object'], variadic: true }),
      max_by: fn((a) => extremeBy(a, 'max'), t('array'), t('expref')),
      sum: fn((a) => (a[0] as number[]).reduce((s, x) => s + x, 0), t('Array<number>')),
      starts_with: fn((a) => (a[0] as string).startsWith(a[1] as string), t('string'), t('string')),
      min: fn((a) => extreme(a[0] as Array<number | string>, 'min'), t('Array<number>', 'Array<string>')),
      min_by: fn((a) => extremeBy(a, 'min'), t('array'), t('expref')),
      type: fn((a) => typeName(a[0]), t('any')),
      keys: fn((a) => Object.keys(a[0] as JmesObject), t('object')),
      values: fn((a) => Object.values(a[0] as JmesObject), t('object')),
      // As go-jmespath sorts: numbers numerically, strings by bytes (jmespath.js sorted numbers as text).
      sort: fn((a) => (a[0] as Array<number | string>).slice().sort(compareGo), t('Array<string>', 'Array<number>')),
      sort_by: fn((a) => this.sortBy(a[0] as unknown[], a[1] as ExpRef), t('array'), t('expref')),
      join: fn((a) => (a[1] as string[]).join(a[0] as string), t('string'), t('Array<string>')),
      reverse: fn((a) => (typeof a[0] === 'string' ? [...a[0]].reverse().join('') : (a[0] as unknown[]).slice().reverse()), t('string', 'array')),
      to_array: fn((a) => (isArray(a[0]) ? a[0] : [a[0]]), t('any')),
      to_string: fn((a) => (typeof a[0] === 'string' ? a[0] : JSON.stringify(a[0])), t('any')),
      to_number: fn((a) => {
        if (typeof a[0] === 'number') return a[0];
        // Go's ParseFloat of a decimal: no blanks around it, never an empty string (JavaScript's
        // Number('') is 0). Its other forms (hex, inf, NaN) cannot be JSON, so they are null here.
        if (typeof a[0] === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(a[0])) return Number(a[0]);
        return null;
      }, t('any')),
      not_null: fn((a) => {
        const i = a.findIndex((x) => x !== null);
        return i < 0 ? null : a[i];
      }, { types: ['any'], variadic: true }),
    };
  }

  private sortBy(array: unknown[], ref: ExpRef): unknown[] {
    // Go answers an array of none or one as it is, without evaluating the key.
    if (array.length <= 1) return array.slice();
    const required = typeName(this.visit(ref.node, array[0]));
    if (required !== 'number' && required !== 'string') throw new Error('TypeError');
    const decorated = array.map((x, i) => [i, x, this.visit(ref.node, x)] as const);
    for (const [, , k] of decorated) {
      if (typeName(k) !== required) throw new Error(`TypeError: expected ${required}, received ${typeName(k)}`);
    }
    decorated.sort((a, b) => compareGo(a[2] as number | string, b[2] as number | string) || a[0] - b[0]);
    return decorated.map((d) => d[1]);
  }

  private literal(node: JmesAstNode): unknown {
    if (!this.literals.has(node)) this.literals.set(node, asGoValue(node.value));
    return this.literals.get(node);
  }

  visit(node: JmesAstNode, value: unknown): unknown {
    const kids = (node.children ?? []) as AstChild[];
    const child = (i: number): JmesAstNode => kids[i] as JmesAstNode;
    switch (node.type) {
      case 'Field':
        // Own keys only: nothing inherited can be read as data.
        return isObject(value) && Object.hasOwn(value, node.name!) ? value[node.name!] : null;
      case 'Subexpression':
      case 'IndexExpression':
      case 'Pipe':
        return this.visit(child(1), this.visit(child(0), value));
      case 'Index': {
        if (!isArray(value)) return null;
        let index = node.value as number;
        if (index < 0) index += value.length;
        return index >= 0 && index < value.length ? value[index] : null;
      }
      case 'Slice': {
        // A slice of a string is null: go-jmespath 0.4.0 slices only arrays.
        if (!isArray(value)) return null;
        const [start, stop, step] = sliceParams(value.length, kids);
        const out: unknown[] = [];
        if (step > 0) for (let i = start; i < stop; i += step) out.push(value[i]);
        else for (let i = start; i > stop; i += step) out.push(value[i]);
        return out;
      }
      case 'Projection': {
        const base = this.visit(child(0), value);
        return isArray(base) ? this.project(child(1), base) : null;
      }
      case 'ValueProjection': {
        const base = this.visit(child(0), value);
        return isObject(base) ? this.project(child(1), Object.values(base)) : null;
      }
      case 'FilterProjection': {
        const base = this.visit(child(0), value);
        if (!isArray(base)) return null;
        return this.project(child(1), base.filter((x) => !isFalse(this.visit(child(2), x))));
      }
      case 'Comparator': {
        const first = this.visit(child(0), value) as number;
        const second = this.visit(child(1), value) as number;
        if (node.name === 'EQ') return strictDeepEqual(first, second);
        if (node.name === 'NE') return !strictDeepEqual(first, second);
        // go-jmespath orders numbers only: any other operand makes the comparison null.
        if (typeof first !== 'number' || typeof second !== 'number') return null;
        switch (node.name) {
          case 'GT':
            return first > second;
          case 'GTE':
            return first >= second;
          case 'LT':
            return first < second;
          case 'LTE':
            return first <= second;
          default:
            throw new Error(`Unknown comparator: ${node.name}`);
        }
      }
      case 'Flatten': {
        const original = this.visit(child(0), value);
        if (!isArray(original)) return null;
        return original.flatMap((x) => (isArray(x) ? x : [x]));
      }
      case 'Identity':
      case 'Current':
        return value;
      case 'MultiSelectList':
        if (value === null) return null;
        return kids.map((k) => this.visit(k as JmesAstNode, value));
      case 'MultiSelectHash': {
        if (value === null) return null;
        // Prototype-less, so a key `__proto__` is a key.
        const collected = Object.create(null) as JmesObject;
        for (const pair of kids as JmesAstNode[]) collected[pair.name!] = this.visit(pair.value as JmesAstNode, value);
        return goObject(collected);
      }
      case 'OrExpression': {
        const first = this.visit(child(0), value);
        return isFalse(first) ? this.visit(child(1), value) : first;
      }
      case 'AndExpression': {
        const first = this.visit(child(0), value);
        return isFalse(first) ? first : this.visit(child(1), value);
      }
      case 'NotExpression':
        return isFalse(this.visit(child(0), value));
      case 'Literal':
        return this.literal(node);
      case 'Function': {
        const args = kids.map((k) => this.visit(k as JmesAstNode, value));
        const entry = Object.hasOwn(this.functions, node.name!) ? this.functions[node.name!] : undefined;
        if (entry === undefined) throw new Error(`Unknown function: ${node.name}()`);
        validateArgs(node.name!, args, entry.signature);
        return entry.fn(args);
      }
      case 'ExpressionReference':
        return new ExpRef(child(0));
      default:
        throw new Error(`Unknown node type: ${node.type}`);
    }
  }

  private project(right: JmesAstNode, elements: unknown[]): unknown[] {
    const out: unknown[] = [];
    for (const x of elements) {
      const current = this.visit(right, x);
      if (current !== null) out.push(current);
    }
    return out;
  }
}

/** Evaluates `expression` over `data`; throws what `compile` throws, or an evaluation error. */
/** Stateless between calls (its literal cache is keyed weakly by AST node), so built once. */
const interpreter = new Interpreter();

export function searchAsGo(data: unknown, expression: string): unknown {
  return interpreter.visit(compile(expression), data);
}
