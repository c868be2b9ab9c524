import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import { createLogger } from '../adapters/logging/logger.js';
import { SecretletError } from '../core/errors.js';
import type { NodeVolumeListener } from '../core/usecases/node-volume.js';
import { OpsNodeVolumeListener, combineNodeVolumeListeners, failedMountMessage } from './node-listener.js';
import type { PodEventSink } from './node-listener.js';

const error = new SecretletError({ code: 'INVALID_ARGUMENT', reason: 'InvalidObjectType', field: 'objects[0].objectType', message: 'Invalid objectType: x' });
const failure = {
  volumeId: 'v1',
  targetPath: '/t',
  error,
  firstMount: true,
  errorType: 'GRPCProviderError' as const,
  volumeContext: { 'csi.storage.k8s.io/pod.name': 'p', 'csi.storage.k8s.io/pod.namespace': 'ns', 'csi.storage.k8s.io/pod.uid': 'u' },
};

describe('OpsNodeVolumeListener', () => {
  it('sends a FailedMount Event for the pod and counts the error by the driver\'s error type and by reason', async () => {
    const sent: unknown[] = [];
    const events: PodEventSink = { warning: (target, reason, message) => (sent.push({ target, reason, message }), Promise.resolve(true)) };
    const metrics = new AgentMetrics({ defaultMetrics: false });
    await new OpsNodeVolumeListener({ events, metrics, logger: createLogger({ level: 'silent' }) }).publishFailed(failure);
    expect(sent).toEqual([{ target: { kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u' }, reason: 'FailedMount', message: failedMountMessage(failure) }]);
    expect(await metrics.registry.getSingleMetricAsString('node_publish_error_total')).toContain('error_type="GRPCProviderError"');
    expect(await metrics.registry.getSingleMetricAsString('secretlet_node_publish_error_reasons_total')).toContain('reason="InvalidObjectType"');
  });
});

describe('failedMountMessage', () => {
  it('reads as kubelet words its FailedMount event: pod volume name, space before the colon, grpc-go code name', () => {
    const targetPath = '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/secrets-store-inline/mount';
    expect(failedMountMessage({ ...failure, targetPath })).toBe(
      'MountVolume.SetUp failed for volume "secrets-store-inline" : rpc error: code = InvalidArgument desc = Invalid objectType: x',
    );
    expect(failedMountMessage({ ...failure, targetPath: '/elsewhere' })).toContain('for volume "v1" :');
  });
});

describe('combineNodeVolumeListeners', () => {
  it('calls every listener even when one fails, then reports the failure', async () => {
    const calls: string[] = [];
    const ok: NodeVolumeListener = { published: () => Promise.resolve(), publishFailed: () => (calls.push('ok'), Promise.resolve()), unpublished: () => Promise.resolve() };
    const broken: NodeVolumeListener = { ...ok, publishFailed: () => (calls.push('broken'), Promise.reject(new Error('boom'))) };
    await expect(combineNodeVolumeListeners(broken, undefined, ok).publishFailed(failure)).rejects.toThrow('boom');
    expect(calls).toEqual(['broken', 'ok']);
  });
});
