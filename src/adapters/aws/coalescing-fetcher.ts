/**
 * `AwsSecretSource`: the SecretSource the mount path calls. It merges what concurrent mounts ask for,
 * so a node-wide burst (a Deployment scaling up, a rotation tick) turns into a handful of batched AWS
 * calls instead of one call per object per pod:
 *
 *  - requests for the same credential key and region that arrive within a short window (default 2 ms;
 *    0 = next event-loop turn) go out together, and the same object is fetched once with the result
 *    shared;
 *  - a request identical to one already in flight joins it instead of being sent again;
 *  - a request that says when it arrived (`notBefore`) is answered by the last successful read of the
 *    same object if that read was *sent* after the request arrived: the value is then as new as a
 *    call of its own would have returned when the request arrived. In a cold burst the mounts of one
 *    identity queue behind each other on a busy node; they arrived together, so one batch serves all
 *    of them. These reads are kept only briefly (default 60 s, bounded), for requests still waiting;
 *    they are not a TTL cache: a request that arrives after a read was sent never gets that read;
 *  - optionally, successful values are kept for a short TTL (off by default; the composition root keeps
 *    it below the rotation interval so rotation still sees new versions). They leave memory at their
 *    TTL (a purge timer per entry), not when LRU eviction gets to them, and are never served after it.
 *
 * Isolation: the group key includes the credential key, which is (mode, namespace, service account,
 * role/region), and every caller's token is checked against its identity before it may join. So one
 * service account never receives a value fetched with another's credentials.
 */
import { asSecretletError } from '../../core/errors.js';
import type { SecretletError } from '../../core/errors.js';
import type { AwsIdentity, FetchedObject, ObjectRequest } from '../../core/model.js';
import type { Clock } from '../../core/ports/clock.js';
import type { FetchOptions, SecretSource } from '../../core/ports/secret-source.js';
import { err } from '../../core/result.js';
import type { Result } from '../../core/result.js';
import { LRUCache } from 'lru-cache';
import type { AwsClientPool } from './clients.js';
import type { CredentialCache, CredentialLease } from './credentials/credential-cache.js';
import type { AwsSourceStats, CountingObserver } from './observer.js';
import type { SecretRequest, SecretsManagerFetcher } from './secrets-manager-fetcher.js';
import type { ParameterRequest, SsmFetcher } from './ssm-fetcher.js';

type Outcome = Result<FetchedObject, SecretletError>;

export interface AwsSecretSourceParts {
  credentials: Pick<CredentialCache, 'acquire' | 'current' | 'clear'>;
  clients: Pick<AwsClientPool, 'secretsManager' | 'ssm'>;
  secretsManager: Pick<SecretsManagerFetcher, 'fetch'>;
  ssm: Pick<SsmFetcher, 'fetch'>;
  clock: Clock;
  observer: CountingObserver;
  /** @default 2 */
  coalesceWindowMs?: number;
  /**
   * Awaited by each group's send after its window closes: lets the caller spread sends over event-loop
   * turns. Building and signing one group's two requests is ~1-2 ms of synchronous SDK work, and a
   * rotation cycle opens every identity's group in the same tick, so without it all their windows
   * close in one timers phase and the sends run back to back (a 158 ms stall at P = 737, 75 groups).
   * Absent: each group sends as its window closes.
   */
  sendTurn?: () => Promise<void>;
  /** 0 or undefined = no value cache. */
  valueCacheTtlMs?: number;
  /** @default 10_000 */
  valueCacheMaxEntries?: number;
  /** How long a read may answer requests that arrived before it was sent. @default 60_000 */
  recentReadsRetainMs?: number;
  /** @default 10_000 */
  recentReadsMaxEntries?: number;
  /** Releases sockets and agents (called by close()). */
  onClose?: () => void;
}

interface Pending {
  request: ObjectRequest;
  promise: Promise<Outcome>;
  resolve: (o: Outcome) => void;
}

interface Group {
  lease: CredentialLease;
  region: string;
  items: Map<string, Pending>;
}

/**
 * A canonical key for "the same object": equal keys are fetched once. AWSCURRENT alone is the
 * unpinned read; next to a version id it is a condition AWS checks (the id must be the current
 * version, else an error), so it stays in the key: a pinned id with it and without it can answer
 * differently.
 */
export function objectKey(r: ObjectRequest): string {
  if (r.type !== 'secretsmanager') return JSON.stringify(['ssm', r.name, r.selector ?? '']);
  const versionId = r.versionId ?? '';
  const stage = r.versionStage === 'AWSCURRENT' && versionId === '' ? '' : (r.versionStage ?? '');
  return JSON.stringify(['sm', r.secretId, versionId, stage]);
}

export class AwsSecretSource implements SecretSource {
  readonly #parts: AwsSecretSourceParts;
  /** groupKey → requests waiting for the window to close. */
  readonly #open = new Map<string, Group>();
  /** groupKey + objectKey → a request waiting or in flight, for joining. */
  readonly #inFlight = new Map<string, Pending>();
  readonly #values: LRUCache<string, { outcome: Outcome; expiresAt: number }> | undefined;
  /** groupKey + objectKey → the last successful read and when its call was sent. */
  readonly #recent: LRUCache<string, { outcome: Outcome; sentAt: number }>;
  #recentPurgedAt = -Infinity;
  readonly #recentRetainMs: number;

  constructor(parts: AwsSecretSourceParts) {
    this.#parts = parts;
    const ttl = parts.valueCacheTtlMs ?? 0;
    // A secret value must not stay in the agent's memory past its TTL: `ttlAutopurge` deletes each
    // entry on a timer when it expires (judged on the source's clock) instead of leaving up to 10k
    // stale values until LRU eviction. The timers are unref'd and only exist while the cache is on.
    this.#values =
      ttl > 0
        ? new LRUCache({
            max: parts.valueCacheMaxEntries ?? 10_000,
            ttl,
            ttlAutopurge: true,
            ttlResolution: 0,
            perf: { now: () => parts.clock.now() },
          })
        : undefined;
    this.#recentRetainMs = parts.recentReadsRetainMs ?? 60_000;
    // The library expires reads on the source's clock (tests use a manual one); resolution 0 so it
    // never caches "now" across a clock step.
    this.#recent = new LRUCache({
      max: parts.recentReadsMaxEntries ?? 10_000,
      ttl: this.#recentRetainMs,
      ttlResolution: 0,
      perf: { now: () => parts.clock.now() },
    });
  }

  async fetch(identity: AwsIdentity, region: string, requests: readonly ObjectRequest[], options: FetchOptions = {}): Promise<Outcome[]> {
    if (requests.length === 0) return [];
    const lease = await this.#parts.credentials.acquire(identity, region);
    const groupKey = JSON.stringify([lease.key, region]);
    const now = this.#parts.clock.now();
    let joined = 0;
    const waits = requests.map((request) => {
      const key = `${groupKey}|${objectKey(request)}`;
      const cached = options.fresh === true ? undefined : this.#values?.get(key);
      // The library still serves an entry whose age equals its TTL; this bound does not.
      if (cached && now < cached.expiresAt) return Promise.resolve(cached.outcome);
      const recent = options.notBefore === undefined ? undefined : this.#recentRead(key, options.notBefore);
      if (recent) {
        joined++;
        return Promise.resolve(recent);
      }
      const running = this.#inFlight.get(key);
      if (running) {
        joined++;
        return running.promise;
      }
      return this.#enqueue({ groupKey, key, lease, region, request });
    });
    if (joined > 0) this.#parts.observer.onCoalesced(joined);
    return Promise.all(waits);
  }

  /** The last read of `key` if its call was sent strictly after `notBefore` (ms clocks tie otherwise). */
  #recentRead(key: string, notBefore: number): Outcome | undefined {
    const read = this.#recent.get(key);
    return read !== undefined && read.sentAt > notBefore ? read.outcome : undefined;
  }

  /** Values of unmounted pods must not stay in memory: drop expired reads about once per retention period. */
  #purgeRecentReads(now: number): void {
    if (now - this.#recentPurgedAt < this.#recentRetainMs) return;
    this.#recentPurgedAt = now;
    this.#recent.purgeStale();
  }

  /** Values held by the optional value cache right now (tests; a gauge could export it). */
  get cachedValueCount(): number {
    return this.#values?.size ?? 0;
  }

  stats(): AwsSourceStats {
    return this.#parts.observer.snapshot();
  }

  /** Drops cached credentials and values and releases connections. */
  close(): void {
    this.#parts.credentials.clear();
    this.#values?.clear();
    this.#recent.clear();
    this.#parts.onClose?.();
  }

  #enqueue(o: { groupKey: string; key: string; lease: CredentialLease; region: string; request: ObjectRequest }): Promise<Outcome> {
    let resolve!: (x: Outcome) => void;
    const promise = new Promise<Outcome>((r) => (resolve = r));
    const pending: Pending = { request: o.request, promise, resolve };
    this.#inFlight.set(o.key, pending);

    let group = this.#open.get(o.groupKey);
    if (!group) {
      group = { lease: o.lease, region: o.region, items: new Map() };
      this.#open.set(o.groupKey, group);
      const ready = this.#windowClosed();
      const turn = this.#parts.sendTurn;
      void ready.then(turn).then(() => this.#flush(o.groupKey));
    }
    group.items.set(o.key, pending);
    return promise;
  }

  #windowClosed(): Promise<void> {
    const ms = this.#parts.coalesceWindowMs ?? 2;
    if (ms <= 0) return new Promise((r) => setImmediate(r));
    return this.#parts.clock.sleep(ms);
  }

  async #flush(groupKey: string): Promise<void> {
    const group = this.#open.get(groupKey);
    if (!group) return;
    this.#open.delete(groupKey);
    const entries = [...group.items.entries()];
    const sm = entries.filter(([, p]) => p.request.type === 'secretsmanager');
    const ssm = entries.filter(([, p]) => p.request.type === 'ssmparameter');
    const { lease, region } = group;
    const credentials = () => this.#parts.credentials.current(lease.key);

    const run = async (batch: Array<[string, Pending]>, fetchAll: () => Promise<Outcome[]>): Promise<void> => {
      if (batch.length === 0) return;
      let outcomes: Outcome[];
      const sentAt = this.#parts.clock.now();
      this.#purgeRecentReads(sentAt);
      try {
        outcomes = await fetchAll();
      } catch (e) {
        const failure = err(asSecretletError(e, { code: 'INTERNAL', reason: 'Internal' }));
        outcomes = batch.map(() => failure);
      }
      const expiresAt = this.#parts.clock.now() + (this.#parts.valueCacheTtlMs ?? 0);
      batch.forEach(([key, pending], i) => {
        const outcome = outcomes[i] ?? err(asSecretletError(new Error('no outcome'), { code: 'INTERNAL', reason: 'Internal' }));
        this.#inFlight.delete(key);
        if (outcome.ok) {
          this.#recent.set(key, { outcome, sentAt });
          this.#values?.set(key, { outcome, expiresAt });
        }
        pending.resolve(outcome);
      });
    };

    await Promise.all([
      run(sm, () =>
        this.#parts.secretsManager.fetch(
          { api: this.#parts.clients.secretsManager(region, lease.key, credentials), region, principal: lease.roleArn ?? lease.key },
          sm.map(([, p]) => p.request as SecretRequest),
        ),
      ),
      run(ssm, () =>
        this.#parts.ssm.fetch({ api: this.#parts.clients.ssm(region, lease.key, credentials), region }, ssm.map(([, p]) => p.request as ParameterRequest)),
      ),
    ]);
  }
}
