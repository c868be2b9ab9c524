/**
 * An immutable string-keyed map whose updates share structure: entries live in 64 buckets, and an
 * update copies the bucket array and the one bucket it touches. The mount registry is rebuilt for
 * every event-log record (projections stay pure: the previous state must stay valid for whoever
 * holds it), and copying a whole Map per record made a node's burst quadratic in its mounts: at
 * 737 mounts, ~270,000 entry copies and ~15 MB of garbage per burst. Here an update costs
 * O(64 + n/64).
 *
 * Read it through the ReadonlyMap interface. Iteration order is stable (bucket by bucket, insertion
 * order within a bucket) but is not global insertion order; nothing in the projections depends on it.
 */

const BUCKETS = 64;

/** FNV-1a over the UTF-16 code units, folded to a bucket index. */
function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % BUCKETS;
}

export class PersistentMap<V> implements ReadonlyMap<string, V> {
  readonly #buckets: ReadonlyArray<ReadonlyMap<string, V> | undefined>;
  readonly size: number;

  private constructor(buckets: ReadonlyArray<ReadonlyMap<string, V> | undefined>, size: number) {
    this.#buckets = buckets;
    this.size = size;
  }

  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>(new Array<undefined>(BUCKETS).fill(undefined), 0);
  }

  /** A PersistentMap with the entries of any map or entry list (later duplicates win, as in Map). */
  static from<V>(entries: Iterable<readonly [string, V]>): PersistentMap<V> {
    if (entries instanceof PersistentMap) return entries as PersistentMap<V>;
    const buckets: Array<Map<string, V> | undefined> = new Array<undefined>(BUCKETS).fill(undefined);
    let size = 0;
    for (const [key, value] of entries) {
      const b = bucketOf(key);
      const bucket = (buckets[b] ??= new Map<string, V>());
      if (!bucket.has(key)) size += 1;
      bucket.set(key, value);
    }
    return new PersistentMap<V>(buckets, size);
  }

  /** A map with `key` set to `value`; this one is unchanged. */
  with(key: string, value: V): PersistentMap<V> {
    const b = bucketOf(key);
    const old = this.#buckets[b];
    const bucket = new Map(old);
    bucket.set(key, value);
    const buckets = [...this.#buckets];
    buckets[b] = bucket;
    return new PersistentMap<V>(buckets, this.size + (old?.has(key) === true ? 0 : 1));
  }

  /** A map without `key` (this one when it had none). */
  without(key: string): PersistentMap<V> {
    const b = bucketOf(key);
    const old = this.#buckets[b];
    if (old?.has(key) !== true) return this;
    const bucket = new Map(old);
    bucket.delete(key);
    const buckets = [...this.#buckets];
    buckets[b] = bucket.size === 0 ? undefined : bucket;
    return new PersistentMap<V>(buckets, this.size - 1);
  }

  get(key: string): V | undefined {
    return this.#buckets[bucketOf(key)]?.get(key);
  }

  has(key: string): boolean {
    return this.#buckets[bucketOf(key)]?.has(key) === true;
  }

  *entries(): MapIterator<[string, V]> {
    for (const bucket of this.#buckets) if (bucket !== undefined) yield* bucket.entries();
  }

  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }
}
