/**
 * An upper bound, before evaluating, on how large a jmesPath expression's values can get.
 *
 * JMESPath can grow its input without bound: `[@,@]` doubles it (by reference, cheaply) and
 * `to_string` or `join` then writes every copy out, so twenty `| [@,@]` stages under `to_string`
 * ask for 2^20 times the secret: gigabytes, and seconds to minutes of CPU on the thread every
 * mount of the node shares. go-jmespath (ASCP) has no limit either; secretlet refuses such an
 * expression before running it, with a message naming it, so one SPC cannot take a node's agent
 * down. The bound is in bytes of JSON text, computed from the value's size; realistic
 * expressions (paths, projections, a `join` of a few fields, `to_string` of an object) stay within
 * a small multiple of the value, far under the limit.
 */
import { compile } from 'jmespath';

/** The most any value on the way to an entry's result may hold, in bytes of JSON text. */
export const JMES_MAX_BYTES = 4 * 1024 * 1024;

/** A node of jmespath.js's AST (`compile`); only the parts the bound reads. */
export interface JmesAstNode {
  type: string;
  name?: string;
  value?: unknown;
  children?: Array<JmesAstNode | number | null>;
}

declare module 'jmespath' {
  export function compile(expression: string): JmesAstNode;
}

/** Largest JSON of a number, boolean or short string a function like `length` returns. */
const SCALAR = 24;

/**
 * The bound of the largest value `expression` builds from an input of `inputBytes` bytes.
 * Throws what `compile` throws for an expression that does not parse.
 */
export function jmesBound(expression: string, inputBytes: number): number {
  let largest = 0;
  const note = (bytes: number): number => {
    largest = Math.max(largest, bytes);
    return bytes;
  };
  const bound = (node: JmesAstNode | number | null | undefined, m: number): number => {
    if (node === null || node === undefined || typeof node === 'number') return m;
    const kids = (node.children ?? []) as Array<JmesAstNode | number | null>;
    switch (node.type) {
      case 'Current':
      case 'Identity':
      case 'Field':
      case 'Index':
      case 'Slice':
        return m;
      case 'Flatten':
      case 'ExpressionReference':
        return note(bound(kids[0], m));
      case 'Subexpression':
      case 'IndexExpression':
      case 'Pipe':
        return note(bound(kids[1], bound(kids[0], m)));
      case 'Projection':
      case 'ValueProjection':
      case 'FilterProjection': {
        const collection = bound(kids[0], m);
        if (node.type === 'FilterProjection') bound(kids[2], collection);
        return note(each(kids[1], collection));
      }
      case 'Literal':
        return JSON.stringify(node.value ?? null).length;
      case 'MultiSelectList':
        return note(kids.reduce<number>((sum, k) => sum + bound(k, m) + 1, 2));
      case 'MultiSelectHash':
        return note(kids.reduce<number>((sum, k) => sum + bound((k as JmesAstNode).value as JmesAstNode, m) + (k as JmesAstNode).name!.length + 4, 2));
      case 'OrExpression':
      case 'AndExpression':
        return Math.max(bound(kids[0], m), bound(kids[1], m));
      case 'NotExpression':
      case 'Comparator':
        for (const k of kids) bound(k, m);
        return SCALAR;
      case 'Function':
        return note(callBound(node.name ?? '', kids, m));
      default:
        // A node this bound does not know: count it as growing by its children, never as free.
        return note(kids.reduce<number>((sum, k) => sum + bound(k, m), m));
    }
  };
  // Each projection bounds its right-hand side twice (for the whole collection and per element, from
  // an empty input), so nested projections would cost 2^depth: a 235-character `map(&map(&…` held the
  // loop for half a minute. The per-element bound depends on the node alone: computed once per node.
  const fromEmpty = new Map<JmesAstNode, number>();
  const boundFromEmpty = (node: JmesAstNode | number | null | undefined): number => {
    if (node === null || node === undefined || typeof node === 'number') return 0;
    let bytes = fromEmpty.get(node);
    if (bytes === undefined) {
      bytes = bound(node, 0);
      fromEmpty.set(node, bytes);
    }
    return bytes;
  };
  /** `right` applied to every element of a collection of `collection` bytes (at most that many elements). */
  const each = (right: JmesAstNode | number | null | undefined, collection: number): number =>
    bound(right, collection) + collection * (boundFromEmpty(right) + 1) + 2;
  const callBound = (name: string, args: Array<JmesAstNode | number | null>, m: number): number => {
    const sizes = (): number[] => args.map((a) => bound(a, m));
    switch (name) {
      case 'to_string':
        // Escapes write a control character as \uXXXX: six bytes for one.
        return 6 * bound(args[0], m) + 2;
      case 'join': {
        const [separator = 0, array = 0] = sizes();
        return array + array * separator;
      }
      case 'map': {
        const array = bound(args[1], m);
        return each((args[0] as JmesAstNode).children?.[0], array);
      }
      case 'sort_by':
      case 'max_by':
      case 'min_by': {
        const array = bound(args[0], m);
        bound((args[1] as JmesAstNode | undefined)?.children?.[0], array);
        return array;
      }
      case 'length':
      case 'abs':
      case 'ceil':
      case 'floor':
      case 'sum':
      case 'avg':
      case 'to_number':
      case 'type':
      case 'contains':
      case 'starts_with':
      case 'ends_with':
        sizes();
        return SCALAR;
      default:
        // keys, values, sort, reverse, to_array, max, min, not_null, merge: no more than their arguments.
        return sizes().reduce((sum, s) => sum + s, 0);
    }
  };
  note(bound(compile(expression), inputBytes));
  return largest;
}
