/**
 * Per-action request quotas as token buckets, kept per region like AWS quotas. A bucket holds
 * `max(rate, 1)` tokens: burst = rate, except that a rate below one call per second still lets one
 * call through (a call takes a whole token, so a smaller bucket could never serve one).
 * A limit's key is one action or several joined by `+`, which then share one bucket, as
 * GetSecretValue and DescribeSecret share 10,000 TPS in real Secrets Manager.
 */

/** Documented default AWS quotas, for users who want the emulator to throttle like AWS. */
export const AWS_DEFAULT_QUOTAS: Readonly<Record<string, number>> = Object.freeze({
  BatchGetSecretValue: 100,
  'GetSecretValue+DescribeSecret': 10_000,
  'GetParameter+GetParameters': 40,
});

/** Tokens a bucket can hold: the rate, but never less than the one token a call takes. */
function capacityOf(rate: number): number {
  return Math.max(rate, 1);
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class RateLimiter {
  readonly #limits = new Map<string, number>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(options: { now: () => number; limits?: Partial<Record<string, number>> }) {
    this.#now = options.now;
    for (const [key, rate] of Object.entries(options.limits ?? {})) this.set(key, rate);
  }

  /** Sets (or with `undefined`, removes) a limit; its buckets start full. */
  set(key: string, perSecond: number | undefined): void {
    if (perSecond !== undefined && !(perSecond > 0)) {
      throw new RangeError(`rate limit for ${key} must be a positive number of calls per second`);
    }
    for (const bucketKey of this.#buckets.keys()) if (bucketKey.endsWith(`|${key}`)) this.#buckets.delete(bucketKey);
    if (perSecond === undefined) this.#limits.delete(key);
    else this.#limits.set(key, perSecond);
  }

  /** Takes a token from every bucket covering `action`; false (and nothing taken) if one is empty. */
  tryTake(action: string, region: string): boolean {
    const now = this.#now();
    const buckets: Bucket[] = [];
    for (const [key, rate] of this.#limits) {
      if (!key.split('+').includes(action)) continue;
      const bucketKey = `${region}|${key}`;
      let bucket = this.#buckets.get(bucketKey);
      if (bucket === undefined) {
        bucket = { tokens: capacityOf(rate), updatedAt: now };
        this.#buckets.set(bucketKey, bucket);
      }
      bucket.tokens = Math.min(capacityOf(rate), bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate);
      bucket.updatedAt = now;
      if (bucket.tokens < 1) return false;
      buckets.push(bucket);
    }
    for (const bucket of buckets) bucket.tokens -= 1;
    return true;
  }
}
