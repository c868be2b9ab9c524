/**
 * How deeply a YAML text nests its collections, measured before the text is composed into a
 * document. Why: the `yaml` package composes nodes recursively, so a few kilobytes of nesting
 * (`- - - … x`, `[[[ … ]]]`) overflow the stack; and a stack overflow inside V8's regular-expression
 * compiler, which the composer reaches there, can leave the isolate broken, so that the next parse
 * aborts the whole process ("RegExpCompiler Allocation failed"). Catching the RangeError is too late.
 *
 * The measure walks the parser's concrete syntax tree (built without recursion) with an explicit
 * stack, so it cannot overflow whatever the input.
 */
import { Parser } from 'yaml';
import type { CST } from 'yaml';

/**
 * Far above any SecretProviderClass (objects → object → jmesPath → entry is four levels) and far
 * below the ~800 levels where the composer overflows the main thread's stack. go-yaml v2 refuses
 * past 10,000 levels; nothing a provider reads can use more than a handful.
 */
export const MAX_YAML_DEPTH = 100;

/** The deepest collection nesting in any document of `text` (0 for scalars only), read up to `limit + 1`. */
export function yamlNestingDepth(text: string, limit = MAX_YAML_DEPTH): number {
  return tokensNestingDepth(new Parser().parse(text), limit);
}

/**
 * yamlNestingDepth over tokens already parsed, so a caller that composes them afterwards (the
 * yaml package's Composer) reads the text once.
 */
export function tokensNestingDepth(tokens: Iterable<CST.Token>, limit = MAX_YAML_DEPTH): number {
  let deepest = 0;
  for (const token of tokens) {
    deepest = Math.max(deepest, tokenDepth(token, limit));
    if (deepest > limit) return deepest;
  }
  return deepest;
}

function tokenDepth(root: CST.Token, limit: number): number {
  let deepest = 0;
  const pending: Array<[CST.Token, number]> = [[root, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [token, depth] = next;
    switch (token.type) {
      case 'document':
        if (token.value !== undefined) pending.push([token.value, depth]);
        break;
      case 'block-scalar':
        for (const prop of token.props) pending.push([prop, depth]);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        const inner = depth + 1;
        deepest = Math.max(deepest, inner);
        if (deepest > limit) return deepest;
        for (const item of token.items) {
          if ('key' in item && item.key !== undefined && item.key !== null) pending.push([item.key, inner]);
          if (item.value !== undefined) pending.push([item.value, inner]);
        }
        break;
      }
      default:
        break;
    }
  }
  return deepest;
}
