/**
 * A seam for metrics: the AWS source reports every AWS call, every credential lookup and every
 * coalesced request here. The metrics adapter implements it with prom-client; this module stays free
 * of any metrics library. `CountingObserver` keeps the totals behind `AwsSecretSource.stats()`.
 */

export type AwsAction =
  | 'BatchGetSecretValue'
  | 'GetSecretValue'
  | 'GetParameters'
  | 'AssumeRoleWithWebIdentity'
  | 'PodIdentityCredentials';

export type AwsCallOutcome = 'ok' | 'throttled' | 'error';

export interface AwsCallEvent {
  action: AwsAction;
  region: string;
  outcome: AwsCallOutcome;
  /** Number of objects asked for in one call (batch and SSM calls). */
  batchSize?: number;
  durationMs: number;
}

export interface AwsCredentialEvent {
  hit: boolean;
  mode: 'irsa' | 'podIdentity';
}

export interface AwsCallObserver {
  onCall(e: AwsCallEvent): void;
  onCredential(e: AwsCredentialEvent): void;
  /** `n` object requests were answered by a call made (or already in flight) for another caller. */
  onCoalesced(n: number): void;
}

export const noopAwsCallObserver: AwsCallObserver = Object.freeze({
  onCall: () => undefined,
  onCredential: () => undefined,
  onCoalesced: () => undefined,
});

export interface AwsSourceStats {
  credentialHits: number;
  credentialMisses: number;
  /** Calls to STS or the Pod Identity agent (including retries). */
  credentialCalls: number;
  batchCalls: number;
  getSecretValueCalls: number;
  getParametersCalls: number;
  throttledCalls: number;
  coalesced: number;
}

/** Counts events for `stats()` and forwards each one to the user's observer. */
export class CountingObserver implements AwsCallObserver {
  readonly #next: AwsCallObserver;
  readonly #stats: AwsSourceStats = {
    credentialHits: 0,
    credentialMisses: 0,
    credentialCalls: 0,
    batchCalls: 0,
    getSecretValueCalls: 0,
    getParametersCalls: 0,
    throttledCalls: 0,
    coalesced: 0,
  };

  constructor(next: AwsCallObserver = noopAwsCallObserver) {
    this.#next = next;
  }

  onCall(e: AwsCallEvent): void {
    const s = this.#stats;
    if (e.action === 'BatchGetSecretValue') s.batchCalls++;
    else if (e.action === 'GetSecretValue') s.getSecretValueCalls++;
    else if (e.action === 'GetParameters') s.getParametersCalls++;
    else s.credentialCalls++;
    if (e.outcome === 'throttled') s.throttledCalls++;
    this.#next.onCall(e);
  }

  onCredential(e: AwsCredentialEvent): void {
    if (e.hit) this.#stats.credentialHits++;
    else this.#stats.credentialMisses++;
    this.#next.onCredential(e);
  }

  onCoalesced(n: number): void {
    this.#stats.coalesced += n;
    this.#next.onCoalesced(n);
  }

  snapshot(): AwsSourceStats {
    return { ...this.#stats };
  }
}
