/**
 * Client-side rate budgets, one token bucket per AWS action, so that a fleet of agents stays under the
 * account-wide quotas (aws-quotas.md §1) instead of discovering them through throttling. Defaults are
 * the account quota (AWS's, or the account's own where it was raised) divided by the expected fleet
 * size; every rate is configurable.
 *
 * `tryTake` is used where there is a cheaper alternative (BatchGetSecretValue spills over to
 * GetSecretValue); `take` waits for a token where there is none (GetParameters, STS).
 */
import type { Clock } from '../../core/ports/clock.js';
import type { AwsAction } from './observer.js';

export type BudgetedAction = Exclude<AwsAction, 'PodIdentityCredentials'>;

export interface BucketOptions {
  /** Sustained calls per second. */
  ratePerSec: number;
  /** Calls that may be made at once after an idle period. */
  burst: number;
}

export type RateBudgetOptions = Partial<Record<BudgetedAction, Partial<BucketOptions>>>;

/**
 * Account-and-Region quotas in calls per second (aws-quotas.md §1.1, §1.3). STS publishes no number;
 * 100/s is an assumption chosen to stay well clear of the throttling seen in the field (~4-5/s per
 * caller re-assuming on every operation), which the credential cache avoids anyway.
 */
export const ACCOUNT_QUOTAS: Readonly<Record<BudgetedAction, number>> = Object.freeze({
  BatchGetSecretValue: 100,
  GetSecretValue: 10_000,
  GetParameters: 40,
  AssumeRoleWithWebIdentity: 100,
});

/** Account quotas that differ from AWS's defaults (a raised quota, SSM's higher-throughput tier). */
export type AccountQuotas = Partial<Record<BudgetedAction, number>>;

export const BUDGETED_ACTIONS: readonly BudgetedAction[] = Object.freeze(Object.keys(ACCOUNT_QUOTAS) as BudgetedAction[]);

/**
 * Per-node buckets: quota / fleetSize, with a burst of ten seconds' worth (at least 2). `quotas`
 * replaces AWS's default quota of the actions it names.
 */
export function defaultBudgets(fleetSize: number, quotas: AccountQuotas = {}): Record<BudgetedAction, BucketOptions> {
  if (!Number.isFinite(fleetSize) || fleetSize < 1) throw new TypeError('options.fleetSize must be a number >= 1');
  const out = {} as Record<BudgetedAction, BucketOptions>;
  for (const action of BUDGETED_ACTIONS) {
    const quota = quotas[action] ?? ACCOUNT_QUOTAS[action];
    if (!(quota > 0)) throw new TypeError(`options.accountQuotas.${action} must be a number > 0`);
    const ratePerSec = quota / fleetSize;
    out[action] = { ratePerSec, burst: Math.max(2, Math.ceil(ratePerSec * 10)) };
  }
  return out;
}

/** The per-node budgets as an operator reads them in the start-up log: `{ GetParameters: '0.4/s, burst 4' }`. */
export function describeBudgets(budgets: Readonly<Record<BudgetedAction, BucketOptions>>): Record<BudgetedAction, string> {
  const out = {} as Record<BudgetedAction, string>;
  for (const action of BUDGETED_ACTIONS) out[action] = `${Number(budgets[action].ratePerSec.toPrecision(6))}/s, burst ${budgets[action].burst}`;
  return out;
}

export class TokenBucket {
  readonly #clock: Clock;
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;

  constructor(options: BucketOptions & { clock: Clock }) {
    if (!(options.ratePerSec > 0)) throw new TypeError('budget ratePerSec must be > 0');
    if (!(options.burst >= 1)) throw new TypeError('budget burst must be >= 1');
    this.#clock = options.clock;
    this.#ratePerMs = options.ratePerSec / 1000;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#updatedAt = options.clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#updatedAt);
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs);
    this.#updatedAt = now;
  }

  /** Takes a token if one is available right now. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }

  /** Waits (on the injected clock) until a token is available, then takes it. */
  async take(): Promise<void> {
    for (;;) {
      if (this.tryTake()) return;
      const waitMs = Math.ceil((1 - this.#tokens) / this.#ratePerMs);
      await this.#clock.sleep(Math.max(1, waitMs));
    }
  }

  available(): number {
    this.#refill();
    return this.#tokens;
  }
}

/** One bucket per action, shared by every identity on this node (quotas are per account and Region). */
export class RateBudget {
  readonly #buckets: Map<BudgetedAction, TokenBucket>;

  constructor(options: { clock: Clock; fleetSize?: number; accountQuotas?: AccountQuotas; budgets?: RateBudgetOptions }) {
    const defaults = defaultBudgets(options.fleetSize ?? 100, options.accountQuotas);
    this.#buckets = new Map(
      BUDGETED_ACTIONS.map((action) => {
        const merged = { ...defaults[action], ...options.budgets?.[action] };
        return [action, new TokenBucket({ ...merged, clock: options.clock })];
      }),
    );
  }

  bucket(action: BudgetedAction): TokenBucket {
    const b = this.#buckets.get(action);
    if (!b) throw new TypeError(`no budget for ${action}`);
    return b;
  }
}
