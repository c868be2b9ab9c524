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

export class CallCounter implements CallCounters {
  /** Aggregated by the full record, so memory stays bounded however long a demo runs. */
  readonly #counts = new Map<string, { record: CallRecord; n: number }>();

  record(call: CallRecord): void {
    const key = JSON.stringify([call.action, call.identity, call.outcome, call.region]);
    const entry = this.#counts.get(key);
    if (entry === undefined) this.#counts.set(key, { record: { ...call }, n: 1 });
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
