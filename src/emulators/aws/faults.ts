/**
 * Scripted failures: "the next n calls of this action fail with throttling / unavailability", and
 * "the next n reads of this secret's value fail to decrypt". Faults are matched first-in first-out;
 * a fault without a count lasts until cleared.
 */
import type { FaultInjector, FaultKind, FaultSpec } from './types.js';

/** The kinds that fail a whole call, before its handler runs. */
export type CallFaultKind = Exclude<FaultKind, 'decryption'>;

const KINDS: ReadonlySet<string> = new Set<FaultKind>(['throttle', 'unavailable', 'decryption']);
/** The actions that decrypt a secret value; a decryption fault on any other could never fire. */
const DECRYPTING_ACTIONS: ReadonlySet<string> = new Set(['GetSecretValue', 'BatchGetSecretValue']);

type Fault = FaultSpec & { remaining: number };

export class FaultPlan implements FaultInjector {
  #faults: Fault[] = [];

  inject(fault: FaultSpec): void {
    if (!KINDS.has(fault.kind)) throw new TypeError(`fault.kind must be 'throttle', 'unavailable' or 'decryption'`);
    if (fault.kind === 'decryption') {
      if (fault.action !== undefined && !DECRYPTING_ACTIONS.has(fault.action)) {
        throw new TypeError(`a decryption fault applies to GetSecretValue or BatchGetSecretValue, not ${fault.action}`);
      }
    } else if (fault.secretId !== undefined) {
      throw new TypeError('fault.secretId is only meaningful for a decryption fault');
    }
    const remaining = fault.count ?? Number.POSITIVE_INFINITY;
    if (!(remaining > 0)) throw new RangeError('fault.count must be a positive number');
    this.#faults.push({ ...fault, remaining });
  }

  clear(): void {
    this.#faults = [];
  }

  /** Consumes and returns the fault this call suffers as a whole, if any. */
  take(action: string, region: string): CallFaultKind | undefined {
    const fault = this.#consume((f) => f.kind !== 'decryption' && this.#applies(f, action, region));
    return fault?.kind === 'decryption' ? undefined : fault?.kind;
  }

  /** Consumes a decryption fault for reading the value of the secret known by `ids` (name, ARN). */
  takeDecryption(action: string, region: string, ids: readonly string[]): boolean {
    const fault = this.#consume(
      (f) => f.kind === 'decryption' && this.#applies(f, action, region) && (f.secretId === undefined || ids.includes(f.secretId)),
    );
    return fault !== undefined;
  }

  #applies(f: Fault, action: string, region: string): boolean {
    return (f.action === undefined || f.action === action) && (f.region === undefined || f.region === region);
  }

  #consume(matches: (f: Fault) => boolean): Fault | undefined {
    const fault = this.#faults.find(matches);
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#faults = this.#faults.filter((f) => f !== fault);
    return fault;
  }
}
