import { describe, expect, it } from 'vitest';
import { SecretletError } from '../core/errors.js';
import { applyJsonPatch, parseJsonPatch } from './json-patch.js';

const pod = { spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }], 'odd/key~': 1 } };

describe('applyJsonPatch', () => {
  it('removes, replaces and adds at indexes, the end marker and escaped keys', () => {
    const out = applyJsonPatch(pod, [
      { op: 'remove', path: '/spec/containers/1' },
      { op: 'replace', path: '/spec/containers/0/name', value: 'agent' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'd' } },
      { op: 'add', path: '/spec/containers/0', value: { name: 'first' } },
      { op: 'replace', path: '/spec/odd~1key~0', value: 2 },
      { op: 'add', path: '/spec/new', value: [1] },
    ]);
    expect(out).toEqual({ spec: { containers: [{ name: 'first' }, { name: 'agent' }, { name: 'c' }, { name: 'd' }], 'odd/key~': 2, new: [1] } });
    // The input is untouched and values are copied, not shared.
    expect(pod.spec.containers).toHaveLength(3);
  });

  it('stops at a failed test, so index paths cannot silently hit the wrong element', () => {
    expect(() => applyJsonPatch(pod, [{ op: 'test', path: '/spec/containers/1/name', value: 'c' }, { op: 'remove', path: '/spec/containers/1' }])).toThrow(
      expect.objectContaining({ reason: 'PatchTestFailed' }),
    );
    expect(applyJsonPatch(pod, [{ op: 'test', path: '/spec/containers/2', value: { name: 'c' } }])).toEqual(pod);
  });

  it.each([
    ['/spec/containers/3', 'remove'],
    ['/spec/missing/x', 'replace'],
    ['/spec/containers/x', 'replace'],
    ['/spec/absent', 'remove'],
  ] as const)('refuses %s (%s) on a path that does not exist', (path, op) => {
    const operation = op === 'remove' ? { op, path } : { op, path, value: 1 };
    expect(() => applyJsonPatch(pod, [operation])).toThrow(SecretletError);
  });
});

describe('parseJsonPatch', () => {
  it('accepts the supported operations and refuses others, naming the entry', () => {
    expect(parseJsonPatch([{ op: 'remove', path: '/a' }], 'p.yaml')).toEqual([{ op: 'remove', path: '/a' }]);
    expect(() => parseJsonPatch([{ op: 'move', from: '/a', path: '/b' }], 'p.yaml')).toThrow(/p\.yaml\[0\]\.op "move" is not supported/);
    expect(() => parseJsonPatch([{ op: 'add', path: '/a' }], 'p.yaml')).toThrow(/needs a value/);
    expect(() => parseJsonPatch({ op: 'add' }, 'p.yaml')).toThrow(/must be a list/);
  });
});
