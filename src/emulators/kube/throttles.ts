/**
 * Injected API Priority and Fairness refusals: the next N requests of a verb and resource answer 429
 * TooManyRequests with `Retry-After`, as a real API server does when a priority level's queues are
 * full. Lets tests and users' demos check that a client rides out throttling during a pod burst.
 */

export interface ThrottleRule {
  /** The request verb as counters name it (`get`, `create`, `list`, `patch`…); any verb when absent. */
  verb?: string;
  /** The resource's plural, with `/<subresource>` for one (`serviceaccounts/token`); any when absent. */
  resource?: string;
  /** How many matching requests to refuse. */
  times: number;
  /** The Retry-After the refusals carry. @default 1 */
  retryAfterSeconds?: number;
}

export class Throttles {
  readonly #rules: { verb?: string; resource?: string; left: number; retryAfterSeconds: number }[] = [];

  add(rule: ThrottleRule): void {
    if (!Number.isInteger(rule.times) || rule.times < 1) throw new TypeError('throttle: times must be a positive integer');
    const retryAfterSeconds = rule.retryAfterSeconds ?? 1;
    if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 0) throw new TypeError('throttle: retryAfterSeconds must be a non-negative integer');
    this.#rules.push({ ...(rule.verb === undefined ? {} : { verb: rule.verb }), ...(rule.resource === undefined ? {} : { resource: rule.resource }), left: rule.times, retryAfterSeconds });
  }

  /** The Retry-After seconds when this request is to be refused (using up one refusal), else undefined. */
  take(verb: string, resource: string): number | undefined {
    const rule = this.#rules.find((r) => r.left > 0 && (r.verb === undefined || r.verb === verb) && (r.resource === undefined || r.resource === resource));
    if (rule === undefined) return undefined;
    rule.left -= 1;
    return rule.retryAfterSeconds;
  }

  clear(): void {
    this.#rules.length = 0;
  }
}
