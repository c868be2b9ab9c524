/**
 * Secrets Manager reads with as few calls as the account allows. Unpinned secrets (no version id,
 * stage absent or AWSCURRENT) go out as `BatchGetSecretValue` with up to 20 ids per call; pinned ones
 * as one `GetSecretValue` each. Batch answers are matched back by name, full ARN or partial ARN, and
 * per-secret `Errors[]` entries map to exactly their object.
 *
 * Falls back to `GetSecretValue` per secret when:
 *  - the batch call is denied as a whole (old IAM policies grant only GetSecretValue): remembered per
 *    role and region for a while (default 10 min) so the denied call is not repeated on every mount;
 *  - the batch budget is empty or the batch call is throttled (its quota is 100/s per account vs
 *    10,000/s for GetSecretValue, aws-quotas.md §1.1): spill-over instead of waiting. Every batch
 *    attempt, retries included, takes a batch token, so a 5xx episode cannot multiply the node's
 *    batch rate; a retry that finds the budget spent spills over like a first attempt;
 *  - the batch call is rejected as a whole for bad input, or an id is missing from the answer, so the
 *    error is attributed to the right secret.
 */
import type { SecretletError } from '../../core/errors.js';
import type { FetchedObject, ObjectRequest } from '../../core/model.js';
import type { Clock } from '../../core/ports/clock.js';
import { err, ok } from '../../core/result.js';
import type { Result } from '../../core/result.js';
import type { SecretsManagerApi } from './clients.js';
import { isThrottle, mapBatchErrorEntry } from './error-mapping.js';
import { mapWithLimit } from './limiter.js';
import type { RateBudget } from './rate-budget.js';
import { callWithRetries } from './retry.js';
import type { RetryPolicy } from './retry.js';

export type SecretRequest = Extract<ObjectRequest, { type: 'secretsmanager' }>;
type Outcome = Result<FetchedObject, SecretletError>;

export const BATCH_MAX_IDS = 20;

export interface SecretsManagerFetcherOptions {
  retry: RetryPolicy;
  budget: RateBudget;
  clock: Clock;
  /** How long "batch is denied for this role+region" is remembered. @default 600_000 */
  batchDeniedTtlMs?: number;
  /** GetSecretValue calls in flight per fetch. @default 8 */
  concurrency?: number;
}

export interface SecretsManagerCallContext {
  api: SecretsManagerApi;
  region: string;
  /** Identifies the role (or identity) the call runs as, for the batch-denied memory. */
  principal: string;
}

interface BatchEntry {
  ARN?: string;
  Name?: string;
  VersionId?: string;
  SecretString?: string;
  SecretBinary?: Uint8Array;
}

export function isUnpinned(r: SecretRequest): boolean {
  return (r.versionId === undefined || r.versionId === '') && (r.versionStage === undefined || r.versionStage === '' || r.versionStage === 'AWSCURRENT');
}

/** A secret ARN without its random `-xxxxxx` suffix (what a "partial ARN" id looks like). */
function partialArn(arn: string): string {
  return arn.replace(/-[A-Za-z0-9]{6}$/, '');
}

/** Does a batch entry's ARN answer the requested ARN id (full, or partial: without the suffix)? */
export function arnMatchesId(arn: string, id: string): boolean {
  return arn === id || partialArn(arn) === id;
}

/**
 * The entry answering each id of one batch. An ARN id takes the entry with its ARN. A name resolves
 * in the caller's own account, but an entry shows only its name and ARN, and one batch may also ask
 * for another account's secret of the same name by ARN: so a name takes an entry no ARN id of the
 * batch took, and only when one secret is left. Otherwise it stays unanswered and is read on its
 * own (GetSecretValue), which resolves it in the caller's account: one extra call, never another
 * account's value.
 */
function matchEntries(ids: readonly string[], entries: readonly BatchEntry[]): Map<string, BatchEntry> {
  const matched = new Map<string, BatchEntry>();
  const byArnId = new Set<BatchEntry>();
  for (const id of ids) {
    if (!id.startsWith('arn:')) continue;
    const entry = entries.find((e) => e.ARN !== undefined && arnMatchesId(e.ARN, id));
    if (entry === undefined) continue;
    matched.set(id, entry);
    byArnId.add(entry);
  }
  for (const id of ids) {
    if (id.startsWith('arn:')) continue;
    const named = entries.filter((e) => e.Name === id && !byArnId.has(e));
    // One secret, even if it was listed more than once.
    if (named.length > 0 && named.every((e) => e.ARN === named[0]!.ARN)) matched.set(id, named[0]!);
  }
  return matched;
}

function toFetched(entry: BatchEntry): FetchedObject {
  const bytes =
    entry.SecretString !== undefined
      ? new TextEncoder().encode(entry.SecretString)
      : entry.SecretBinary !== undefined
        ? new Uint8Array(entry.SecretBinary)
        : new Uint8Array(0);
  return { bytes, version: entry.VersionId ?? '' };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class SecretsManagerFetcher {
  readonly #options: SecretsManagerFetcherOptions;
  /** principal|region → epoch ms until which BatchGetSecretValue is known to be denied. */
  readonly #batchDeniedUntil = new Map<string, number>();

  constructor(options: SecretsManagerFetcherOptions) {
    this.#options = options;
  }

  async fetch(ctx: SecretsManagerCallContext, requests: readonly SecretRequest[]): Promise<Outcome[]> {
    const results = new Array<Outcome | undefined>(requests.length);
    const unpinnedIds = new Map<string, number[]>();
    const singles: number[] = [];
    requests.forEach((r, i) => {
      if (!isUnpinned(r)) return singles.push(i);
      const at = unpinnedIds.get(r.secretId);
      if (at) at.push(i);
      else unpinnedIds.set(r.secretId, [i]);
      return undefined;
    });

    const spilled: string[] = [];
    const batchUsable = !this.#batchDenied(ctx);
    const ids = [...unpinnedIds.keys()];
    if (!batchUsable) spilled.push(...ids);
    else {
      await Promise.all(
        chunk(ids, BATCH_MAX_IDS).map(async (group) => {
          const answered = await this.#batch(ctx, group);
          for (const id of group) {
            const outcome = answered.get(id);
            if (outcome === undefined) spilled.push(id);
            else for (const i of unpinnedIds.get(id) ?? []) results[i] = outcome;
          }
        }),
      );
    }

    const singleJobs: Array<{ request: SecretRequest; indices: number[] }> = [
      ...spilled.map((id) => ({ request: { type: 'secretsmanager' as const, secretId: id }, indices: unpinnedIds.get(id) ?? [] })),
      ...singles.map((i) => ({ request: requests[i] as SecretRequest, indices: [i] })),
    ];
    await mapWithLimit(singleJobs, this.#options.concurrency ?? 8, async (job) => {
      const outcome = await this.#getOne(ctx, job.request);
      for (const i of job.indices) results[i] = outcome;
    });
    return results.map((r) => {
      if (r === undefined) throw new TypeError('secrets-manager fetcher left a request without an outcome');
      return r;
    });
  }

  /**
   * Expired entries go when a new one comes, so the map holds only the identities denied within the
   * TTL: keyed per service account with Pod Identity, it would otherwise keep one entry for every
   * service account ever denied (the common case under ASCP-style policies without the batch action).
   */
  #rememberBatchDenied(ctx: SecretsManagerCallContext): void {
    const now = this.#options.clock.now();
    for (const [key, until] of this.#batchDeniedUntil) if (until <= now) this.#batchDeniedUntil.delete(key);
    this.#batchDeniedUntil.set(`${ctx.principal}|${ctx.region}`, now + (this.#options.batchDeniedTtlMs ?? 600_000));
  }

  /** How many (principal, region) pairs are remembered as denied the batch action: bounded by the TTL. */
  get batchDeniedRemembered(): number {
    return this.#batchDeniedUntil.size;
  }

  #batchDenied(ctx: SecretsManagerCallContext): boolean {
    const key = `${ctx.principal}|${ctx.region}`;
    const until = this.#batchDeniedUntil.get(key);
    if (until === undefined) return false;
    if (this.#options.clock.now() < until) return true;
    this.#batchDeniedUntil.delete(key);
    return false;
  }

  /**
   * One BatchGetSecretValue call. Returns the outcome per id it settled; ids missing from the map are
   * to be fetched one by one.
   */
  async #batch(ctx: SecretsManagerCallContext, ids: string[]): Promise<Map<string, Outcome>> {
    const settled = new Map<string, Outcome>();
    const bucket = this.#options.budget.bucket('BatchGetSecretValue');
    if (!bucket.tryTake()) return settled;
    // The token of a retry is taken when the retry is decided, before its backoff: with none left
    // the ids spill over at once instead of after a sleep.
    let budgetSpent = false;
    const shouldRetry = (e: SecretletError): boolean => {
      if (isThrottle(e)) return false;
      if (bucket.tryTake()) return true;
      budgetSpent = true;
      return false;
    };
    let answer;
    try {
      answer = await callWithRetries(
        this.#options.retry,
        { action: 'BatchGetSecretValue', region: ctx.region, batchSize: ids.length, shouldRetry },
        () => ctx.api.batchGetSecretValue({ SecretIdList: ids }),
      );
    } catch (raw) {
      const e = raw as SecretletError;
      if (isThrottle(e) || budgetSpent) return settled;
      if (e.code === 'PERMISSION_DENIED') {
        this.#rememberBatchDenied(ctx);
        return settled;
      }
      if (e.code === 'UNAVAILABLE' || e.code === 'DEADLINE_EXCEEDED' || e.code === 'INTERNAL') {
        for (const id of ids) settled.set(id, err(e));
      }
      return settled;
    }
    for (const [id, entry] of matchEntries(ids, answer.SecretValues ?? [])) settled.set(id, ok(toFetched(entry)));
    for (const e of answer.Errors ?? []) {
      if (e.SecretId === undefined || !ids.includes(e.SecretId) || settled.has(e.SecretId)) continue;
      settled.set(e.SecretId, err(mapBatchErrorEntry(e, { action: 'BatchGetSecretValue', region: ctx.region, objectId: e.SecretId })));
    }
    return settled;
  }

  async #getOne(ctx: SecretsManagerCallContext, r: SecretRequest): Promise<Outcome> {
    try {
      const out = await callWithRetries(this.#options.retry, { action: 'GetSecretValue', region: ctx.region, objectId: r.secretId }, async () => {
        await this.#options.budget.bucket('GetSecretValue').take();
        return ctx.api.getSecretValue({
          SecretId: r.secretId,
          ...(r.versionId ? { VersionId: r.versionId } : {}),
          ...(r.versionStage ? { VersionStage: r.versionStage } : {}),
        });
      });
      return ok(toFetched(out));
    } catch (e) {
      return err(e as SecretletError);
    }
  }
}
