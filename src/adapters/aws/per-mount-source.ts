/**
 * A faithful model of the upstream AWS provider's (ASCP) call pattern, for the density benchmark's
 * side-by-side comparison only (agent option `fetchStrategy: 'per-mount'`; never a production
 * setting). Per `fetch` call, i.e. per mount and region (aws-provider.md §10, §11.4):
 * - new SDK clients (no kept-alive connections across mounts) and a fresh credential call: STS
 *   AssumeRoleWithWebIdentity for IRSA, or the Pod Identity agent — no credential cache;
 * - one GetSecretValue per Secrets Manager object, one after the other;
 * - then GetParameters in chunks of 10 names, one chunk after the other;
 * - no batching, no coalescing across pods, no value cache.
 * Errors map exactly as in the real source, so failing mounts fail the same way in both strategies.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { SecretletError } from '../../core/errors.js';
import type { AwsIdentity, FetchedObject, ObjectRequest } from '../../core/model.js';
import type { Clock } from '../../core/ports/clock.js';
import type { SecretSource } from '../../core/ports/secret-source.js';
import { err, ok } from '../../core/result.js';
import type { Result } from '../../core/result.js';
import { IrsaCredentialProvider } from './credentials/irsa.js';
import { PodIdentityCredentialProvider } from './credentials/pod-identity.js';
import type { AwsCredentials, CredentialProvider } from './credentials/types.js';
import { CountingObserver } from './observer.js';
import type { AwsCallObserver, AwsSourceStats } from './observer.js';
import type { ServiceAccountDirectory } from './ports.js';
import { RateBudget } from './rate-budget.js';
import type { RateBudgetOptions } from './rate-budget.js';
import { callWithRetries } from './retry.js';
import type { RetryPolicy } from './retry.js';
import { SSM_MAX_NAMES, SsmFetcher } from './ssm-fetcher.js';
import type { ParameterRequest } from './ssm-fetcher.js';
import { systemClock } from './system-clock.js';

type Outcome = Result<FetchedObject, SecretletError>;
type SecretRequest = Extract<ObjectRequest, { type: 'secretsmanager' }>;

export interface PerMountSecretSourceOptions {
  /** One endpoint for Secrets Manager, SSM and STS (emulator). */
  endpoint?: string;
  podIdentityEndpoint?: string;
  serviceAccounts: ServiceAccountDirectory;
  observer?: AwsCallObserver;
  clock?: Clock;
  /** Attempts per call; the Go SDK's default retryer that ASCP uses makes 3. @default 3 */
  maxAttempts?: number;
}

interface Destroyable {
  destroy(): void;
}

function toFetched(out: GetSecretValueCommandOutput): FetchedObject {
  const bytes = out.SecretString !== undefined ? new TextEncoder().encode(out.SecretString) : new Uint8Array(out.SecretBinary ?? new Uint8Array());
  return { bytes, version: out.VersionId ?? '' };
}

/**
 * Budgets that never make a call wait. Upstream has no client-side limit, and the benchmark's AWS
 * endpoint enforces none: with the account quota as a budget (fleet size 1), GetParameters at 40/s
 * (burst 400) held this model back once its ~2,200 SSM calls at P = 737 outran the burst, which
 * lengthened its republish and rotation passes and so flattered secretlet's ratios.
 */
const UNLIMITED_BUDGETS: RateBudgetOptions = Object.fromEntries(
  (['BatchGetSecretValue', 'GetSecretValue', 'GetParameters', 'AssumeRoleWithWebIdentity'] as const).map((action) => [action, { ratePerSec: 1e9, burst: 1e9 }]),
);

export class PerMountSecretSource implements SecretSource {
  readonly #options: PerMountSecretSourceOptions;
  readonly #observer: CountingObserver;
  readonly #retry: RetryPolicy;
  /** Never waits (UNLIMITED_BUDGETS): the model must show ASCP's call volume and pace, not our budgets'. */
  readonly #budget: RateBudget;
  readonly #podIdentity: PodIdentityCredentialProvider;

  constructor(options: PerMountSecretSourceOptions) {
    this.#options = options;
    const clock = options.clock ?? systemClock();
    this.#observer = new CountingObserver(options.observer);
    this.#retry = { clock, random: Math.random, observer: this.#observer, maxAttempts: options.maxAttempts ?? 3, baseDelayMs: 50, maxDelayMs: 5000 };
    this.#budget = new RateBudget({ clock, budgets: UNLIMITED_BUDGETS });
    this.#podIdentity = new PodIdentityCredentialProvider({
      retry: this.#retry,
      clock,
      ...(options.podIdentityEndpoint === undefined ? {} : { endpoint: options.podIdentityEndpoint }),
    });
  }

  stats(): AwsSourceStats {
    return this.#observer.snapshot();
  }

  close(): void {
    this.#podIdentity.close();
  }

  #common(region: string) {
    return { region, maxAttempts: 1, ...(this.#options.endpoint === undefined ? {} : { endpoint: this.#options.endpoint }) };
  }

  async fetch(identity: AwsIdentity, region: string, requests: readonly ObjectRequest[]): Promise<Outcome[]> {
    const disposables: Destroyable[] = [];
    try {
      const credentials = await this.#credentials(identity, region, disposables);
      const sm = new SecretsManagerClient({ ...this.#common(region), credentials });
      const ssm = new SSMClient({ ...this.#common(region), credentials });
      disposables.push(sm, ssm);
      const results = new Array<Outcome | undefined>(requests.length);
      for (const [i, r] of requests.entries()) {
        if (r.type === 'secretsmanager') results[i] = await this.#getSecretValue(sm, region, r);
      }
      const params = [...requests.entries()].filter((e): e is [number, ParameterRequest] => e[1].type === 'ssmparameter');
      const fetcher = new SsmFetcher({ retry: this.#retry, budget: this.#budget });
      const api = { getParameters: (input: ConstructorParameters<typeof GetParametersCommand>[0]) => ssm.send(new GetParametersCommand(input)) };
      for (let at = 0; at < params.length; at += SSM_MAX_NAMES) {
        const chunk = params.slice(at, at + SSM_MAX_NAMES);
        const outcomes = await fetcher.fetch({ api, region }, chunk.map(([, r]) => r));
        chunk.forEach(([i], k) => (results[i] = outcomes[k]));
      }
      return results.map((r) => {
        if (r === undefined) throw new TypeError('per-mount source left a request without an outcome');
        return r;
      });
    } finally {
      for (const d of disposables) d.destroy();
    }
  }

  async #credentials(identity: AwsIdentity, region: string, disposables: Destroyable[]): Promise<AwsCredentials> {
    const provider: CredentialProvider =
      identity.mode === 'podIdentity'
        ? this.#podIdentity
        : new IrsaCredentialProvider({
            serviceAccounts: this.#options.serviceAccounts,
            stsFor: (r) => {
              const sts = new STSClient(this.#common(r));
              disposables.push(sts);
              return { assumeRoleWithWebIdentity: (input) => sts.send(new AssumeRoleWithWebIdentityCommand(input)) };
            },
            retry: this.#retry,
            budget: this.#budget.bucket('AssumeRoleWithWebIdentity'),
          });
    const scope = await provider.scope(identity, region);
    this.#observer.onCredential({ hit: false, mode: identity.mode });
    return provider.obtain({ identity, region, scope, token: identity.token });
  }

  async #getSecretValue(sm: SecretsManagerClient, region: string, r: SecretRequest): Promise<Outcome> {
    try {
      const out = await callWithRetries(this.#retry, { action: 'GetSecretValue', region, objectId: r.secretId }, async () => {
        await this.#budget.bucket('GetSecretValue').take();
        return sm.send(
          new GetSecretValueCommand({
            SecretId: r.secretId,
            ...(r.versionId === undefined ? {} : { VersionId: r.versionId }),
            ...(r.versionStage === undefined ? {} : { VersionStage: r.versionStage }),
          }),
        );
      });
      return ok(toFetched(out));
    } catch (e) {
      return err(e as SecretletError);
    }
  }
}

export function createPerMountSecretSource(options: PerMountSecretSourceOptions): PerMountSecretSource {
  return new PerMountSecretSource(options);
}
