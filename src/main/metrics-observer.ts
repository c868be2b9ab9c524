/** Bridges the AWS adapter's call observer to Prometheus series. */
import type { AwsCallEvent, AwsCallObserver, AwsCredentialEvent } from '../adapters/aws/index.js';
import type { AgentMetrics } from '../adapters/metrics/agent-metrics.js';

export class MetricsAwsObserver implements AwsCallObserver {
  private readonly metrics: AgentMetrics;

  constructor(metrics: AgentMetrics) {
    this.metrics = metrics;
  }

  onCall(e: AwsCallEvent): void {
    this.metrics.awsCalls.inc({ action: e.action, outcome: e.outcome });
    if (e.batchSize !== undefined) this.metrics.awsBatchSize.observe({ action: e.action }, e.batchSize);
  }

  onCredential(e: AwsCredentialEvent): void {
    this.metrics.credentialCache.inc({ result: e.hit ? 'hit' : 'miss', mode: e.mode });
  }

  onCoalesced(n: number): void {
    this.metrics.coalesced.inc(n);
  }
}
