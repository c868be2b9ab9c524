import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PersistentMap } from './persistent-map.js';

type Op = { kind: 'set'; key: string; value: number } | { kind: 'delete'; key: string };

const key = fc.oneof(fc.constantFrom('a', 'b', 'uid-1/vol', 'uid-2/vol'), fc.string({ maxLength: 12 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), key }),
);

function sortedEntries(m: ReadonlyMap<string, number>): Array<[string, number]> {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('PersistentMap', () => {
  it('behaves as a Map under any sequence of updates, and every earlier version stays as it was', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        let map = PersistentMap.empty<number>();
        const model = new Map<string, number>();
        const versions: Array<{ map: PersistentMap<number>; entries: Array<[string, number]> }> = [];
        for (const o of ops) {
          if (o.kind === 'set') {
            map = map.with(o.key, o.value);
            model.set(o.key, o.value);
          } else {
            map = map.without(o.key);
            model.delete(o.key);
          }
          versions.push({ map, entries: sortedEntries(model) });
        }
        expect(map.size).toBe(model.size);
        expect(sortedEntries(map)).toEqual(sortedEntries(model));
        for (const [k, v] of model) {
          expect(map.get(k)).toBe(v);
          expect(map.has(k)).toBe(true);
        }
        for (const v of versions) expect(sortedEntries(v.map)).toEqual(v.entries);
      }),
    );
  });

  it('iterates keys, values and forEach consistently with entries, and copies a plain map', () => {
    const plain = new Map([
      ['x', 1],
      ['y', 2],
      ['z', 3],
    ]);
    const map = PersistentMap.from(plain);
    plain.set('w', 4);
    expect(map.size).toBe(3);
    const seen: Array<[string, number]> = [];
    map.forEach((v, k, m) => {
      expect(m).toBe(map);
      seen.push([k, v]);
    });
    expect(seen).toEqual([...map.entries()]);
    expect([...map.keys()]).toEqual(seen.map(([k]) => k));
    expect([...map.values()]).toEqual(seen.map(([, v]) => v));
    expect(map.without('absent')).toBe(map);
    expect(PersistentMap.from(map)).toBe(map);
  });
});
