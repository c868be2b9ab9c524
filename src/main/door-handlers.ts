/**
 * Adapts the use cases to the gRPC doors' handler ports, adding what every call needs: admission
 * through the drain gate, a duration metric, and one structured log line per call that names the
 * pod and the outcome (never attributes, tokens, secrets or contents).
 */
import type { ProviderMountHandler, ProviderMountRequest, ProviderMountResponse, NodeVolumeHandler, NodePublishRequest, NodeUnpublishRequest } from '../adapters/grpc/index.js';
import type { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import type { Logger } from '../adapters/logging/logger.js';
import { SecretletError } from '../core/errors.js';
import type { NodeVolumeService } from '../core/usecases/node-volume.js';
import type { ProviderMountService } from '../core/usecases/provider-mount.js';
import type { InFlight } from './in-flight.js';

function errorFields(e: unknown): Record<string, unknown> {
  if (e instanceof SecretletError) return { code: e.code, reason: e.reason, field: e.field, error: e.message };
  return { code: 'UNKNOWN', error: e instanceof Error ? e.message : String(e) };
}

function podOf(ctx: Record<string, string>): { pod?: string; namespace?: string; spc?: string } {
  return { pod: ctx['csi.storage.k8s.io/pod.name'], namespace: ctx['csi.storage.k8s.io/pod.namespace'], spc: ctx['secretProviderClass'] };
}

export class ProviderDoorHandler implements ProviderMountHandler {
  private readonly deps: { service: ProviderMountService; inFlight: InFlight; metrics: AgentMetrics; logger: Logger };

  constructor(deps: { service: ProviderMountService; inFlight: InFlight; metrics: AgentMetrics; logger: Logger }) {
    this.deps = deps;
  }

  mount(req: ProviderMountRequest, _signal: AbortSignal): Promise<ProviderMountResponse> {
    const { service, inFlight, metrics, logger } = this.deps;
    return inFlight.run(async () => {
      const started = performance.now();
      try {
        const out = await service.mount(req);
        const durationMs = Math.round(performance.now() - started);
        metrics.providerMount.inc({ outcome: 'ok', error_type: '' });
        metrics.mountDuration.observe({ door: 'provider' }, durationMs / 1000);
        logger.info({ targetPath: req.targetPath, objects: out.objectVersion.length, durationMs }, 'provider mount complete');
        return out;
      } catch (e) {
        const reason = e instanceof SecretletError ? e.reason : 'Unknown';
        metrics.providerMount.inc({ outcome: 'error', error_type: reason });
        logger.warn({ targetPath: req.targetPath, durationMs: Math.round(performance.now() - started), ...errorFields(e) }, 'provider mount failed');
        throw e;
      }
    });
  }
}

export class CsiDoorHandler implements NodeVolumeHandler {
  private readonly deps: { service: NodeVolumeService; inFlight: InFlight; metrics: AgentMetrics; logger: Logger };

  constructor(deps: { service: NodeVolumeService; inFlight: InFlight; metrics: AgentMetrics; logger: Logger }) {
    this.deps = deps;
  }

  publish(req: NodePublishRequest, _signal: AbortSignal): Promise<void> {
    const { service, inFlight, metrics, logger } = this.deps;
    return inFlight.run(async () => {
      const started = performance.now();
      const who = podOf(req.volumeContext);
      try {
        await service.publish(req);
        const durationMs = Math.round(performance.now() - started);
        metrics.publishOk('aws');
        metrics.mountDuration.observe({ door: 'csi' }, durationMs / 1000);
        logger.info({ ...who, volumeId: req.volumeId, durationMs }, 'node publish volume complete');
      } catch (e) {
        metrics.publishError('aws', e instanceof SecretletError ? e.reason : 'FailedToMount');
        logger.warn({ ...who, volumeId: req.volumeId, durationMs: Math.round(performance.now() - started), ...errorFields(e) }, 'node publish volume failed');
        throw e;
      }
    });
  }

  unpublish(req: NodeUnpublishRequest, _signal: AbortSignal): Promise<void> {
    const { service, inFlight, metrics, logger } = this.deps;
    return inFlight.run(async () => {
      try {
        await service.unpublish(req);
        metrics.unpublishOk();
        logger.info({ volumeId: req.volumeId, targetPath: req.targetPath }, 'node unpublish volume complete');
      } catch (e) {
        metrics.unpublishError();
        logger.warn({ volumeId: req.volumeId, targetPath: req.targetPath, ...errorFields(e) }, 'node unpublish volume failed');
        throw e;
      }
    });
  }
}
