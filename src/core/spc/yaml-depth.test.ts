import { describe, expect, it } from 'vitest';
import { MAX_YAML_DEPTH, yamlNestingDepth } from './yaml-depth.js';

describe('yamlNestingDepth', () => {
  it.each([
    ['', 0],
    ['plain', 0],
    ['- a', 1],
    ['- objectName: a\n  jmesPath:\n    - path: x\n      objectAlias: y\n', 4],
    ['[{"objectName": "a", "jmesPath": [{"path": "x"}]}]', 4],
    ['- - - x', 3],
    ['[[[]]]', 3],
    ['a:\n b:\n  c:\n   d: e\n', 4],
    // A collection used as a key nests too.
    ['? [[x]]\n: v\n', 3],
    // Every document counts, not only the first.
    ['- a\n---\n- - - b\n', 3],
    // Brackets inside quoted or block scalars are text, not nesting.
    ['- "[[[[["\n- |\n  [[[[[[\n', 1],
  ])('%j nests %i deep', (text, depth) => {
    expect(yamlNestingDepth(text)).toBe(depth);
  });

  it('stops counting just past the limit, however deep the text goes', () => {
    const depth = yamlNestingDepth('- '.repeat(20_000) + 'x', MAX_YAML_DEPTH);
    expect(depth).toBe(MAX_YAML_DEPTH + 1);
    expect(yamlNestingDepth('['.repeat(20_000) + ']'.repeat(20_000))).toBeGreaterThan(MAX_YAML_DEPTH);
  });
});
