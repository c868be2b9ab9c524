/**
 * CsiDoorHandler between the CSI adapter and NodeVolumeService: the call's AbortSignal (kubelet's
 * deadline or cancel, from call-signal.ts) must reach the use case, or a publish kubelet gave up on
 * keeps mounting and writing secrets for a pod that may be gone. And the log line of a failed first
 * mount whose rollback failed names both.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/adapters/logging/logger.js';
import { AgentMetrics } from '../../../src/adapters/metrics/agent-metrics.js';
import type { NodePublishRequest } from '../../../src/adapters/grpc/index.js';
import { SecretletError } from '../../../src/core/errors.js';
import { NodeVolumeService } from '../../../src/core/usecases/node-volume.js';
import type { NodePublishInput, NodeVolumeServiceOptions } from '../../../src/core/usecases/node-volume.js';
import { withRollbackFailure } from '../../../src/core/usecases/rollback-failure.js';
import { CsiDoorHandler, errorFields } from '../../../src/main/door-handlers.js';
import { InFlight } from '../../../src/main/in-flight.js';

/** A NodeVolumeService that only records what the door hands it. */
class RecordingNodeVolumeService extends NodeVolumeService {
  readonly publishes: NodePublishInput[] = [];

  constructor() {
    super({} as NodeVolumeServiceOptions);
  }

  override publish(req: NodePublishInput): Promise<void> {
    this.publishes.push(req);
    return Promise.resolve();
  }
}

const request: NodePublishRequest = {
  volumeId: 'csi-0123',
  targetPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/secrets/mount',
  volumeContext: { secretProviderClass: 'app-secrets', 'csi.storage.k8s.io/pod.uid': 'uid-1' },
  secrets: {},
  readonly: true,
  mountFlags: [],
};

describe('CsiDoorHandler.publish', () => {
  it("hands the call's signal to the use case", async () => {
    const service = new RecordingNodeVolumeService();
    const handler = new CsiDoorHandler({ service, inFlight: new InFlight(), metrics: new AgentMetrics({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }) });
    const call = new AbortController();
    await handler.publish(request, call.signal);
    expect(service.publishes).toHaveLength(1);
    expect(service.publishes[0]?.signal).toBe(call.signal);
  });
});

describe('errorFields', () => {
  it('names a failed rollback beside the publish error it does not replace', () => {
    const cause = new SecretletError({ code: 'UNAVAILABLE', reason: 'ApiServerUnavailable', message: 'api server unavailable' });
    expect(errorFields(withRollbackFailure(cause, new Error('EBUSY: resource busy')))).toEqual({
      code: 'UNAVAILABLE',
      reason: 'ApiServerUnavailable',
      field: undefined,
      error: 'api server unavailable',
      rollbackError: 'EBUSY: resource busy',
    });
    expect(errorFields(cause)).not.toHaveProperty('rollbackError');
  });
});
