import { describe, expect, it } from 'vitest';
import { AgentMetrics } from './agent-metrics.js';

describe('AgentMetrics rotation series', () => {
  it('labels rotation errors with the reason, and anything not shaped like one as Other', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false });
    metrics.rotationFailed('aws', 'Throttled');
    metrics.rotationFailed('aws', 'rate exceeded for secret app/key');
    metrics.rotationFailed('aws', '');
    const { values } = await metrics.rotationReconcileError.get();
    expect(values.map((v) => [v.labels['error_type'], v.value])).toEqual([
      ['Throttled', 1],
      ['Other', 2],
    ]);
  });
});
