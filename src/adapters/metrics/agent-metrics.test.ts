import { describe, expect, it } from 'vitest';
import { AgentMetrics } from './agent-metrics.js';

describe('AgentMetrics rotation series', () => {
  it("counts rotation errors under the driver's FailedToRotate, and by reason (anything not shaped like one as Other) on secretlet's series", async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false });
    metrics.rotationFailed('aws', 'Throttled');
    metrics.rotationFailed('aws', 'rate exceeded for secret app/key');
    metrics.rotationFailed('aws', '');
    const upstream = await metrics.rotationReconcileError.get();
    expect(upstream.values.map((v) => [v.labels['error_type'], v.value])).toEqual([['FailedToRotate', 3]]);
    const reasons = await metrics.rotationErrorReasons.get();
    expect(reasons.values.map((v) => [v.labels['reason'], v.value])).toEqual([
      ['Throttled', 1],
      ['Other', 2],
    ]);
  });
});
