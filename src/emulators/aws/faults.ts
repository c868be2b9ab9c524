/**
 * Scripted failures: "the next n calls of this action fail with throttling / unavailability".
 * Faults are matched first-in first-out; a fault without a count lasts until cleared.
 */
import type { FaultInjector, FaultKind, FaultSpec } from './types.js';

export class FaultPlan implements FaultInjector {
  #faults: Array<FaultSpec & { remaining: number }> = [];

  inject(fault: FaultSpec): void {
    if (fault.kind !== 'throttle' && fault.kind !== 'unavailable') {
      throw new TypeError(`fault.kind must be 'throttle' or 'unavailable'`);
    }
    const remaining = fault.count ?? Number.POSITIVE_INFINITY;
    if (!(remaining > 0)) throw new RangeError('fault.count must be a positive number');
    this.#faults.push({ ...fault, remaining });
  }

  clear(): void {
    this.#faults = [];
  }

  /** Consumes and returns the fault this call suffers, if any. */
  take(action: string, region: string): FaultKind | undefined {
    const fault = this.#faults.find(
      (f) => (f.action === undefined || f.action === action) && (f.region === undefined || f.region === region),
    );
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#faults = this.#faults.filter((f) => f !== fault);
    return fault.kind;
  }
}
