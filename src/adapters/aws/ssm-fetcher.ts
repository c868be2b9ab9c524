/**
 * SSM Parameter Store reads: `GetParameters` with up to 10 names per call and decryption on. Names
 * carry their selector (`name:version` / `name:label`). The answer names parameters without their
 * selector, so two requests that may be one parameter (two selectors, or its name and its ARN) are
 * sent in different calls (ASCP loses one of the files, aws-provider.md §11.3); exact duplicates are
 * sent once and the result shared.
 *
 * Answers are matched by Name or ARN, and an entry settles every request it matches;
 * `InvalidParameters` make exactly those objects NOT_FOUND; an answer entry that matches nothing is
 * ignored (ASCP panics there). A call refused as a whole for a reason one name can cause (malformed,
 * denied by IAM) is retried one name per call, so the mounts that shared it with the name at fault
 * still succeed.
 */
import { SecretletError } from '../../core/errors.js';
import type { FetchedObject, ObjectRequest } from '../../core/model.js';
import { err, ok } from '../../core/result.js';
import type { Result } from '../../core/result.js';
import type { SsmApi } from './clients.js';
import type { RateBudget } from './rate-budget.js';
import { callWithRetries } from './retry.js';
import type { RetryPolicy } from './retry.js';

export type ParameterRequest = Extract<ObjectRequest, { type: 'ssmparameter' }>;
type Outcome = Result<FetchedObject, SecretletError>;

export const SSM_MAX_NAMES = 10;

/** Failures of a call that may be caused by one of its names rather than by the whole call. */
const SPLIT_ON = new Set(['INVALID_ARGUMENT', 'NOT_FOUND', 'PERMISSION_DENIED']);

export interface SsmFetcherOptions {
  retry: RetryPolicy;
  budget: RateBudget;
}

export interface SsmCallContext {
  api: SsmApi;
  region: string;
}

interface Wanted {
  /** The name as sent, with its selector. */
  sent: string;
  /** The name or ARN without selector, as the answer's Name or ARN spells it. */
  base: string;
  indices: number[];
}

/**
 * What parameter a name or ARN may designate, as far as the text tells: the path, without the ARN
 * prefix (account and region dropped) and without a leading slash. Two requests with one key may be
 * one parameter, whose answer entries cannot be told apart, so they never share a call; keys that
 * merge distinct parameters (another account's `/app/db`, `db` and `/db`) only cost an extra call.
 */
function parameterKey(base: string): string {
  let path = base;
  if (base.startsWith('arn:')) {
    const resource = base.split(':').slice(5).join(':');
    path = resource.startsWith('parameter/') ? resource.slice('parameter'.length) : resource;
  }
  return path.startsWith('/') ? path.slice(1) : path;
}

/** `name`, `name:3` or `name:label`; a selector given with its colon is accepted too. */
export function sentName(r: ParameterRequest): string {
  if (r.selector === undefined || r.selector === '') return r.name;
  return r.selector.startsWith(':') ? `${r.name}${r.selector}` : `${r.name}:${r.selector}`;
}

/** Packs names into calls of at most 10, never putting one parameter twice in the same call. */
export function packCalls(wanted: readonly Wanted[], max = SSM_MAX_NAMES): Wanted[][] {
  const calls: Array<{ names: Wanted[]; keys: Set<string> }> = [];
  for (const w of wanted) {
    const key = parameterKey(w.base);
    let target = calls.find((c) => c.names.length < max && !c.keys.has(key));
    if (!target) {
      target = { names: [], keys: new Set() };
      calls.push(target);
    }
    target.names.push(w);
    target.keys.add(key);
  }
  return calls.map((c) => c.names);
}

function notFound(region: string, name: string, why: string): SecretletError {
  return new SecretletError({
    code: 'NOT_FOUND',
    reason: 'ObjectNotFound',
    message: `GetParameters of ${name} in ${region} failed with ${why}`,
  });
}

export class SsmFetcher {
  readonly #options: SsmFetcherOptions;

  constructor(options: SsmFetcherOptions) {
    this.#options = options;
  }

  async fetch(ctx: SsmCallContext, requests: readonly ParameterRequest[]): Promise<Outcome[]> {
    const bySent = new Map<string, Wanted>();
    requests.forEach((r, i) => {
      const sent = sentName(r);
      const w = bySent.get(sent);
      if (w) w.indices.push(i);
      else bySent.set(sent, { sent, base: r.name, indices: [i] });
    });
    const results = new Array<Outcome | undefined>(requests.length);
    await Promise.all(
      packCalls([...bySent.values()]).map(async (call) => {
        const settled = await this.#call(ctx, call);
        for (const w of call) {
          const outcome = settled.get(w.sent) ?? err(notFound(ctx.region, w.sent, 'NoValueReturned'));
          for (const i of w.indices) results[i] = outcome;
        }
      }),
    );
    return results.map((r) => {
      if (r === undefined) throw new TypeError('ssm fetcher left a request without an outcome');
      return r;
    });
  }

  async #call(ctx: SsmCallContext, call: Wanted[]): Promise<Map<string, Outcome>> {
    const settled = new Map<string, Outcome>();
    let answer;
    try {
      answer = await callWithRetries(
        this.#options.retry,
        { action: 'GetParameters', region: ctx.region, batchSize: call.length, ...(call.length === 1 ? { objectId: call[0]?.sent } : {}) },
        async () => {
          await this.#options.budget.bucket('GetParameters').take();
          return ctx.api.getParameters({ Names: call.map((w) => w.sent), WithDecryption: true });
        },
      );
    } catch (raw) {
      const e = raw as SecretletError;
      // A bad name fails the whole call, and so does one name IAM does not allow (IAM refuses the
      // whole call). Names of other mounts of the identity may share it: ask for each name alone
      // so only the object at fault fails.
      if (SPLIT_ON.has(e.code) && call.length > 1) {
        const alone = await Promise.all(call.map((w) => this.#call(ctx, [w])));
        for (const m of alone) for (const [k, v] of m) settled.set(k, v);
        return settled;
      }
      for (const w of call) settled.set(w.sent, err(e));
      return settled;
    }
    for (const p of answer.Parameters ?? []) {
      // Every request the entry matches, not the first: packCalls keeps one parameter per call, but
      // an answer that names one entry for two requests (its name and its ARN) must settle both.
      const outcome: Outcome = ok({ bytes: new TextEncoder().encode(p.Value ?? ''), version: p.Version === undefined ? '' : String(p.Version) });
      for (const w of call) if (w.base === p.Name || (p.ARN !== undefined && w.base === p.ARN)) settled.set(w.sent, outcome);
    }
    for (const invalid of answer.InvalidParameters ?? []) {
      const w = call.find((x) => x.sent === invalid);
      if (w && !settled.has(w.sent)) settled.set(w.sent, err(notFound(ctx.region, w.sent, 'InvalidParameters')));
    }
    return settled;
  }
}
