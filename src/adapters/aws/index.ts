/**
 * The AWS adapter's public surface and its wiring: `createAwsSecretSource` builds the credential
 * cache, SDK client pool, rate budgets, retry policy and the two fetchers behind one `AwsSecretSource`.
 * Everything is per instance (no module state), so tests and several agents in one process are
 * independent.
 */
import type { Clock } from '../../core/ports/clock.js';
import { AwsClientPool } from './clients.js';
import { AwsSecretSource } from './coalescing-fetcher.js';
import { CredentialCache } from './credentials/credential-cache.js';
import { IrsaCredentialProvider } from './credentials/irsa.js';
import { PodIdentityCredentialProvider } from './credentials/pod-identity.js';
import { CountingObserver } from './observer.js';
import type { AwsCallObserver } from './observer.js';
import type { ServiceAccountDirectory } from './ports.js';
import { RateBudget } from './rate-budget.js';
import type { AccountQuotas, RateBudgetOptions } from './rate-budget.js';
import type { RetryPolicy } from './retry.js';
import { SecretsManagerFetcher } from './secrets-manager-fetcher.js';
import { SsmFetcher } from './ssm-fetcher.js';
import { systemClock } from './system-clock.js';

export interface AwsSecretSourceOptions {
  /** One endpoint for Secrets Manager, SSM and STS (emulator). Unset = SDK defaults / AWS_ENDPOINT_URL*. */
  endpoint?: string;
  /** Pod Identity agent URL for every address preference (emulator). Unset = the link-local agent. */
  podIdentityEndpoint?: string;
  /** @default 5000 */
  podIdentityTimeoutMs?: number;
  serviceAccounts: ServiceAccountDirectory;
  /** Merge window for concurrent requests; 0 = next event-loop turn. @default 2 */
  coalesceWindowMs?: number;
  /** Awaited before each coalesced group is sent (AwsSecretSourceParts.sendTurn). */
  sendTurn?: () => Promise<void>;
  /** Keep successful values this long (keep it below the rotation interval). @default 0 (off) */
  valueCacheTtlMs?: number;
  /** Per-action token buckets; unset actions get quota / fleetSize. */
  budgets?: RateBudgetOptions;
  /** Nodes sharing the account's quotas. @default 100 */
  fleetSize?: number;
  /** The account's quotas where they differ from AWS's defaults (ACCOUNT_QUOTAS). */
  accountQuotas?: AccountQuotas;
  /** Attempts per AWS call, including the first. @default 5 */
  maxAttempts?: number;
  /** First retry backoff ceiling; doubles per retry (full jitter). @default 50 */
  retryBaseDelayMs?: number;
  /** @default 5000 */
  retryMaxDelayMs?: number;
  /** How long a role's "BatchGetSecretValue is denied" is remembered. @default 600_000 */
  batchDeniedTtlMs?: number;
  /** SDK request timeout. @default 10_000 */
  requestTimeoutMs?: number;
  clock?: Clock;
  /** Returns a number in [0, 1). @default Math.random */
  random?: () => number;
  observer?: AwsCallObserver;
  /** Renew credentials this long before expiry. @default 300_000 */
  credentialRefreshAheadMs?: number;
}

export function createAwsSecretSource(options: AwsSecretSourceOptions): AwsSecretSource {
  const clock = options.clock ?? systemClock();
  const observer = new CountingObserver(options.observer);
  const retry: RetryPolicy = {
    clock,
    random: options.random ?? Math.random,
    observer,
    maxAttempts: options.maxAttempts ?? 5,
    baseDelayMs: options.retryBaseDelayMs ?? 50,
    maxDelayMs: options.retryMaxDelayMs ?? 5000,
  };
  const budget = new RateBudget({
    clock,
    ...(options.fleetSize === undefined ? {} : { fleetSize: options.fleetSize }),
    ...(options.accountQuotas === undefined ? {} : { accountQuotas: options.accountQuotas }),
    ...(options.budgets === undefined ? {} : { budgets: options.budgets }),
  });
  const clients = new AwsClientPool({
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
  });
  const podIdentity = new PodIdentityCredentialProvider({
    retry,
    clock,
    ...(options.podIdentityEndpoint === undefined ? {} : { endpoint: options.podIdentityEndpoint }),
    ...(options.podIdentityTimeoutMs === undefined ? {} : { timeoutMs: options.podIdentityTimeoutMs }),
  });
  const credentials = new CredentialCache({
    clock,
    observer,
    ...(options.credentialRefreshAheadMs === undefined ? {} : { refreshAheadMs: options.credentialRefreshAheadMs }),
    providers: {
      irsa: new IrsaCredentialProvider({
        serviceAccounts: options.serviceAccounts,
        stsFor: (region) => clients.sts(region),
        retry,
        budget: budget.bucket('AssumeRoleWithWebIdentity'),
      }),
      podIdentity,
    },
  });
  return new AwsSecretSource({
    credentials,
    clients,
    secretsManager: new SecretsManagerFetcher({
      retry,
      budget,
      clock,
      ...(options.batchDeniedTtlMs === undefined ? {} : { batchDeniedTtlMs: options.batchDeniedTtlMs }),
    }),
    ssm: new SsmFetcher({ retry, budget }),
    clock,
    observer,
    ...(options.coalesceWindowMs === undefined ? {} : { coalesceWindowMs: options.coalesceWindowMs }),
    ...(options.sendTurn === undefined ? {} : { sendTurn: options.sendTurn }),
    ...(options.valueCacheTtlMs === undefined ? {} : { valueCacheTtlMs: options.valueCacheTtlMs }),
    onClose: () => {
      clients.close();
      podIdentity.close();
    },
  });
}

export { AwsSecretSource } from './coalescing-fetcher.js';
export { DefaultRegionResolver } from './region-resolver.js';
export { systemClock } from './system-clock.js';
export type { DefaultRegionResolverOptions } from './region-resolver.js';
export type { NodeRegionSource, PodRef, ServiceAccountDirectory } from './ports.js';
export { InMemoryServiceAccountDirectory, StaticNodeRegionSource } from './in-memory-directories.js';
export { noopAwsCallObserver } from './observer.js';
export type { AwsAction, AwsCallEvent, AwsCallObserver, AwsCallOutcome, AwsCredentialEvent, AwsSourceStats } from './observer.js';
export type { AccountQuotas, RateBudgetOptions, BucketOptions, BudgetedAction } from './rate-budget.js';
export { defaultBudgets, describeBudgets } from './rate-budget.js';
export { mapAwsError } from './error-mapping.js';
