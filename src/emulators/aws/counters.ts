/**
 * Call counters: every call the emulator answers, by action, identity, outcome and region. Tests and
 * benchmarks use them to prove claims like "one BatchGetSecretValue instead of 20 GetSecretValue".
 */
import type { CallCounters, CallFilter, CallOutcome } from './types.js';

export interface CallRecord {
  action: string;
  identity: string;
  outcome: CallOutcome;
  region: string;
}

/**
 * Distinct records kept before new ones are folded. The router only records bounded labels, but an
 * identity or region can still vary (every service account of a trusted issuer, any region-shaped
 * scope), so this is the backstop that keeps a long run's memory flat. The density benchmark's
 * largest node (737 pods, 74 identities) stays far below it.
 */
export const MAX_COUNTED_RECORDS = 50_000;
/** The identity and region a record is counted under once the distinct records are at the cap. */
export const OVERFLOW_LABEL = 'overflow';

export class CallCounter implements CallCounters {
  /** Aggregated by the full record, so memory stays bounded however long a demo runs. */
  readonly #counts = new Map<string, { record: CallRecord; n: number }>();
  readonly #maxRecords: number;

  /** @param options.maxRecords distinct records kept before folding. @default MAX_COUNTED_RECORDS */
  constructor(options: { maxRecords?: number } = {}) {
    this.#maxRecords = options.maxRecords ?? MAX_COUNTED_RECORDS;
  }

  record(call: CallRecord): void {
    let record = call;
    let key = keyOf(record);
    if (!this.#counts.has(key) && this.#counts.size >= this.#maxRecords) {
      // Past the cap a new combination still counts, under its action and outcome (both from fixed
      // sets), so total(), byAction() and byOutcome() stay exact; only who and where are folded.
      record = { ...call, identity: OVERFLOW_LABEL, region: OVERFLOW_LABEL };
      key = keyOf(record);
    }
    const entry = this.#counts.get(key);
    if (entry === undefined) this.#counts.set(key, { record: { ...record }, n: 1 });
    else entry.n += 1;
  }

  byAction(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { record, n } of this.#counts.values()) out[record.action] = (out[record.action] ?? 0) + n;
    return out;
  }

  byIdentity(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const { record, n } of this.#counts.values()) {
      const actions = (out[record.identity] ??= {});
      actions[record.action] = (actions[record.action] ?? 0) + n;
    }
    return out;
  }

  byOutcome(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { record, n } of this.#counts.values()) out[record.outcome] = (out[record.outcome] ?? 0) + n;
    return out;
  }

  count(filter: CallFilter = {}): number {
    let total = 0;
    for (const { record, n } of this.#counts.values()) {
      if (filter.action !== undefined && filter.action !== record.action) continue;
      if (filter.identity !== undefined && filter.identity !== record.identity) continue;
      if (filter.outcome !== undefined && filter.outcome !== record.outcome) continue;
      if (filter.region !== undefined && filter.region !== record.region) continue;
      total += n;
    }
    return total;
  }

  total(): number {
    return this.count();
  }

  reset(): void {
    this.#counts.clear();
  }
}

function keyOf(call: CallRecord): string {
  return JSON.stringify([call.action, call.identity, call.outcome, call.region]);
}
