/**
 * Remembers the validated objects of recent `objects` texts. On a dense node most mounts repeat a
 * handful of SecretProviderClasses (every pod of a Deployment mounts the same one), and parsing the
 * YAML and validating it again was the largest pure-CPU step of a mount in the density benchmark
 * (~0.5 ms of ~1 ms per mount for a 10-object class). Validation is a pure function of the text,
 * the path translation and the regions, so a remembered result is exactly what a new run would
 * return. Results are frozen: callers share them. Failures are not remembered (they are rare and
 * carry per-call context in their messages).
 */
import type { ObjectDescriptor } from '../model.js';
import { validateObjects } from './validate-objects.js';
import type { ValidateObjectsOptions } from './validate-objects.js';

export class ValidatedObjectsMemo {
  readonly #limit: number;
  /** Insertion order is recency order: a hit is re-inserted, the oldest key is evicted first. */
  readonly #entries = new Map<string, ObjectDescriptor[]>();

  constructor(limit = 256) {
    this.#limit = limit;
  }

  validate(options: ValidateObjectsOptions): ObjectDescriptor[] {
    const key = JSON.stringify([options.objectsText, options.pathTranslation, options.regions.primary, options.regions.failover ?? null]);
    const known = this.#entries.get(key);
    if (known !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, known);
      return known;
    }
    const objects = deepFreeze(validateObjects(options));
    this.#entries.set(key, objects);
    if (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    return objects;
  }

  get size(): number {
    return this.#entries.size;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
