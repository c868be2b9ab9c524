import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch } from './patch.js';

describe('patches', () => {
  const base = { metadata: { labels: { a: '1', b: '2' } }, data: { k: 'v' }, list: [1, 2] };

  it('merge patch merges objects, deletes on null and replaces lists', () => {
    expect(applyMergePatch(base, { metadata: { labels: { a: null, c: '3' } }, list: [3] })).toEqual({ metadata: { labels: { b: '2', c: '3' } }, data: { k: 'v' }, list: [3] });
  });

  it('json patch applies operations in order and fails a wrong test', () => {
    const ops = [
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'replace', path: '/data/k', value: 'w' },
      { op: 'remove', path: '/metadata/labels/a' },
      { op: 'move', from: '/metadata/labels/b', path: '/metadata/labels/c' },
    ];
    expect(applyJsonPatch(base, ops)).toEqual({ metadata: { labels: { c: '2' } }, data: { k: 'w' }, list: [1, 2, 3] });
    expect(() => applyJsonPatch(base, [{ op: 'test', path: '/data/k', value: 'x' }])).toThrow(expect.objectContaining({ reason: 'Invalid' }));
    expect(base.list).toEqual([1, 2]);
  });

  it('json patch refuses what is not a list of operations as BadRequest, and what cannot be applied as Invalid', () => {
    for (const undecodable of [{}, [null], [{ op: 'add', value: 1 }], [{ path: '/x' }], [{ op: 'move', path: '/x', from: 3 }]]) {
      expect(() => applyJsonPatch(base, undecodable)).toThrow(expect.objectContaining({ reason: 'BadRequest' }));
    }
    for (const inapplicable of [
      [{ op: 'remove', path: '/nope' }],
      [{ op: 'replace', path: '/metadata/nope/x', value: 1 }],
      [{ op: 'move', path: '/x' }],
      [{ op: 'frobnicate', path: '/x' }],
      [{ op: 'add', path: 'no-slash', value: 1 }],
    ]) {
      expect(() => applyJsonPatch(base, inapplicable)).toThrow(expect.objectContaining({ reason: 'Invalid' }));
    }
  });

  it('json patch test compares values regardless of key order', () => {
    expect(applyJsonPatch(base, [{ op: 'test', path: '/metadata/labels', value: { b: '2', a: '1' } }])).toEqual(base);
  });
});
