/**
 * Credentials shared across mounts: one STS call (IRSA) or agent call (Pod Identity) per identity per
 * credential lifetime, instead of one per mount per region as in ASCP (aws-quotas.md §1.4).
 *
 * Key: (mode, namespace, service account, provider scope) where the IRSA scope is role ARN + region and
 * the Pod Identity scope is empty (the agent's credentials are not regional). Every `acquire` first
 * checks that the caller's token names the caller's identity, so a cached credential is only ever
 * served to a request that carries a token for that same service account.
 *
 * Refresh: credentials are renewed ahead of expiry (default 5 min, at most half their lifetime) in the
 * background while the old ones are still served; concurrent misses share one in-flight call. A failed
 * background refresh does not fail anyone while the old credentials are still valid: they keep being
 * served and the refresh is tried again on a later call after a pause (the SDK asks on every request
 * in its last 5 minutes, so retrying on each call would hammer a throttled or down STS / agent). Only
 * once the old credentials are (nearly) expired does a caller wait for the refresh and get its error.
 * The freshest token seen per key is kept in memory only, so an SDK client can refresh credentials
 * between mounts; it is never logged.
 */
import { LRUCache } from 'lru-cache';
import { SecretletError } from '../../../core/errors.js';
import { ATTR_SERVICE_ACCOUNT_NAME } from '../../../core/spc/attributes.js';
import type { AuthMode, AwsIdentity } from '../../../core/model.js';
import type { Clock } from '../../../core/ports/clock.js';
import type { AwsCallObserver } from '../observer.js';
import { checkTokenNamesIdentity } from './token-claims.js';
import type { AwsCredentials, CredentialProvider, CredentialScope } from './types.js';

export interface CredentialCacheOptions {
  providers: Partial<Record<AuthMode, CredentialProvider>>;
  clock: Clock;
  observer: AwsCallObserver;
  /** Renew credentials this long before they expire. @default 300_000 */
  refreshAheadMs?: number;
  /** Identities kept. @default 1000 */
  maxEntries?: number;
  /**
   * Credentials with less validity left than this are not handed out without waiting for a refresh.
   * A request signed now must still reach AWS before the session expires: this covers one SDK request
   * timeout (10 s by default) plus a little clock skew between node and AWS. @default 15_000
   */
  minRemainingMs?: number;
  /**
   * After a failed background refresh, how long still-valid credentials are served before the next
   * attempt. Each attempt is itself several STS / agent calls with backoff; this spaces the attempts
   * (about ten in the default 5-minute window). @default 30_000
   */
  refreshRetryAfterMs?: number;
}

/** What a fetch runs with: the cache key (also used for SDK clients and coalescing) and a provider. */
export interface CredentialLease {
  key: string;
  mode: AuthMode;
  credentials: AwsCredentials;
  /** The role ARN (IRSA), for per-role memory such as "batch is denied for this role". */
  roleArn: string | undefined;
}

interface Entry {
  identity: AwsIdentity;
  region: string;
  scope: CredentialScope;
  /** Expiry of `identity.token` (epoch ms), used to keep the freshest token. */
  tokenExpiresAt: number;
  credentials: AwsCredentials | undefined;
  obtainedAt: number;
  /** When the last refresh failed (epoch ms); -Infinity after a success. */
  refreshFailedAt: number;
}

export class CredentialCache {
  readonly #providers: Partial<Record<AuthMode, CredentialProvider>>;
  readonly #clock: Clock;
  readonly #observer: AwsCallObserver;
  readonly #refreshAheadMs: number;
  readonly #minRemainingMs: number;
  readonly #refreshRetryAfterMs: number;
  readonly #entries: LRUCache<string, Entry>;
  readonly #inFlight = new Map<string, Promise<AwsCredentials>>();

  constructor(options: CredentialCacheOptions) {
    this.#providers = options.providers;
    this.#clock = options.clock;
    this.#observer = options.observer;
    this.#refreshAheadMs = options.refreshAheadMs ?? 300_000;
    this.#minRemainingMs = options.minRemainingMs ?? 15_000;
    this.#refreshRetryAfterMs = options.refreshRetryAfterMs ?? 30_000;
    this.#entries = new LRUCache({ max: options.maxEntries ?? 1000 });
  }

  /**
   * Credentials for `identity` in `region`, from the cache when they are fresh. A failure names the
   * pod's service account as its field: it is the identity's, whichever object asked (mount-job.ts
   * words it as ASCP's credential step does, `<region>: <error>`).
   */
  async acquire(identity: AwsIdentity, region: string): Promise<CredentialLease> {
    try {
      return await this.#acquire(identity, region);
    } catch (e) {
      throw identityFailure(e);
    }
  }

  async #acquire(identity: AwsIdentity, region: string): Promise<CredentialLease> {
    const claims = checkTokenNamesIdentity(identity, this.#clock.now());
    const provider = this.#providers[identity.mode];
    if (!provider) {
      throw new SecretletError({
        code: 'FAILED_PRECONDITION',
        reason: 'AuthModeUnsupported',
        message: `authentication mode ${identity.mode} is not configured on this agent`,
      });
    }
    const scope = await provider.scope(identity, region);
    const key = JSON.stringify([identity.mode, identity.namespace, identity.serviceAccount, scope.key]);
    const tokenExpiresAt = claims.expiresAt ?? Number.POSITIVE_INFINITY;

    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { identity, region, scope, tokenExpiresAt, credentials: undefined, obtainedAt: 0, refreshFailedAt: -Infinity };
      this.#entries.set(key, entry);
    } else if (tokenExpiresAt >= entry.tokenExpiresAt) {
      entry.identity = identity;
      entry.tokenExpiresAt = tokenExpiresAt;
    }

    const now = this.#clock.now();
    const current = entry.credentials;
    if (current && this.#usable(current, now)) {
      this.#observer.onCredential({ hit: true, mode: identity.mode });
      // Still valid: serve it and renew in the background with this caller's (just checked) token.
      if (now >= this.#refreshAt(entry, current)) this.#refreshInBackground(key, entry, identity);
      return { key, mode: identity.mode, credentials: current, roleArn: scope.roleArn };
    }
    this.#observer.onCredential({ hit: false, mode: identity.mode });
    const credentials = await this.#refresh(key, entry, identity);
    return { key, mode: identity.mode, credentials, roleArn: scope.roleArn };
  }

  /**
   * The credentials behind a key, renewed with the freshest token seen when they are about to expire.
   * This is what SDK clients call when signing, so a long-lived client keeps working between mounts.
   */
  async current(key: string): Promise<AwsCredentials> {
    const entry = this.#entries.get(key);
    if (!entry) {
      throw new SecretletError({
        code: 'UNAVAILABLE',
        reason: 'CredentialsEvicted',
        message: 'credentials were evicted from the cache; the next mount obtains new ones',
      });
    }
    const c = entry.credentials;
    const now = this.#clock.now();
    if (!c || !this.#usable(c, now)) return this.#refresh(key, entry, entry.identity);
    if (now >= this.#refreshAt(entry, c)) this.#refreshInBackground(key, entry, entry.identity);
    return c;
  }

  /** Forgets every credential and token (shutdown, tests). */
  clear(): void {
    this.#entries.clear();
  }

  #refreshAt(entry: Entry, c: AwsCredentials): number {
    const lifetime = Math.max(0, c.expiresAt - entry.obtainedAt);
    return c.expiresAt - Math.min(this.#refreshAheadMs, lifetime / 2);
  }

  #usable(c: AwsCredentials, now: number): boolean {
    return now < c.expiresAt - this.#minRemainingMs;
  }

  /**
   * Starts (or joins) a refresh nobody waits for. Not again right after one failed: the old
   * credentials are still served meanwhile, and the failed attempt already retried with backoff.
   */
  #refreshInBackground(key: string, entry: Entry, identity: AwsIdentity): void {
    if (!this.#inFlight.has(key) && this.#clock.now() < entry.refreshFailedAt + this.#refreshRetryAfterMs) return;
    this.#refresh(key, entry, identity).catch(() => undefined);
  }

  #refresh(key: string, entry: Entry, identity: AwsIdentity): Promise<AwsCredentials> {
    const running = this.#inFlight.get(key);
    if (running) return running;
    const provider = this.#providers[identity.mode];
    if (!provider) return Promise.reject(new TypeError(`no provider for ${identity.mode}`));
    const started = this.#clock.now();
    const call = provider
      .obtain({ identity, region: entry.region, scope: entry.scope, token: identity.token })
      .then((credentials) => {
        entry.credentials = credentials;
        entry.obtainedAt = started;
        entry.refreshFailedAt = -Infinity;
        return credentials;
      })
      .catch((e: unknown) => {
        entry.refreshFailedAt = this.#clock.now();
        throw credentialFailure(e);
      })
      .finally(() => {
        this.#inFlight.delete(key);
      });
    this.#inFlight.set(key, call);
    return call;
  }
}

/**
 * A refusal to hand out credentials (STS's AccessDenied for the role's trust policy, the Pod Identity
 * agent's 403 for a service account without an association) belongs to the identity, not to a
 * region: ASCP obtains every region's credentials before it fetches anything and fails the mount on
 * any refusal. So it is told apart from a fetch's AccessDenied, which does fall over to the failover
 * region (mount-job.ts `fallsOver`): asking there would only ask the same trust policy or agent again.
 */
function credentialFailure(e: unknown): unknown {
  if (!(e instanceof SecretletError) || e.code !== 'PERMISSION_DENIED') return e;
  return new SecretletError({ code: e.code, reason: 'CredentialsDenied', message: e.message, ...(e.field === undefined ? {} : { field: e.field }), cause: e });
}

function identityFailure(e: unknown): unknown {
  if (!(e instanceof SecretletError) || e.field !== undefined) return e;
  return new SecretletError({ code: e.code, reason: e.reason, message: e.message, field: ATTR_SERVICE_ACCOUNT_NAME, cause: e });
}
