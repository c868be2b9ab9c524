/**
 * Adapts the use cases to the gRPC doors' handler ports, adding what every call needs: admission
 * through the drain gate, a duration metric, and one structured log line per call that names the
 * pod and the outcome (never attributes, tokens, secrets or contents).
 *
 * Every call's log line has the same shape, so log queries work across doors:
 * `{ time, level, msg, pod, namespace, spc, mountKey, durationMs }` plus, on failure,
 * `{ code, reason, field, error }` where `error` is the SecretletError message (built from names
 * and fields only, never from values).
 */
import type { ProviderMountHandler, ProviderMountRequest, ProviderMountResponse, NodeVolumeHandler, NodePublishRequest, NodeUnpublishRequest } from '../adapters/grpc/index.js';
import type { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import type { Logger } from '../adapters/logging/logger.js';
import { SecretletError } from '../core/errors.js';
import { mountKeyFor, mountKeyFromTargetPath } from '../core/events/mount-events.js';
import type { NodeVolumeService } from '../core/usecases/node-volume.js';
import { rollbackFailureOf } from '../core/usecases/rollback-failure.js';
import type { ProviderMountService } from '../core/usecases/provider-mount.js';
import type { Clock } from '../core/ports/clock.js';
import type { InFlight } from './in-flight.js';
import type { PublishingTargets } from './publishing-targets.js';
import { Turnstile } from './turnstile.js';

export interface CallLogFields {
  pod?: string;
  namespace?: string;
  spc?: string;
  mountKey?: string;
}

/**
 * The error half of a log line: codes and the (value-free) message, nothing from the request; and
 * when a failed first mount could not be rolled back, the rollback's error (a path and errno text).
 */
export function errorFields(e: unknown): Record<string, unknown> {
  if (e instanceof SecretletError) {
    const rollbackError = rollbackFailureOf(e);
    return { code: e.code, reason: e.reason, field: e.field, error: e.message, ...(rollbackError === undefined ? {} : { rollbackError }) };
  }
  return { code: 'UNKNOWN', reason: 'Unknown', error: e instanceof Error ? e.message : String(e) };
}

const POD_NAME = 'csi.storage.k8s.io/pod.name';
const POD_NAMESPACE = 'csi.storage.k8s.io/pod.namespace';
const POD_UID = 'csi.storage.k8s.io/pod.uid';

function pick(ctx: Record<string, unknown>, key: string): string | undefined {
  const v = ctx[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Who a call is about, from the pod attributes only (the token attribute is never read here). */
export function callFields(ctx: Record<string, unknown>, fallbackMountKey?: string): CallLogFields {
  const uid = pick(ctx, POD_UID);
  const out: CallLogFields = {};
  const pod = pick(ctx, POD_NAME);
  const namespace = pick(ctx, POD_NAMESPACE);
  const spc = pick(ctx, 'secretProviderClass');
  if (pod !== undefined) out.pod = pod;
  if (namespace !== undefined) out.namespace = namespace;
  if (spc !== undefined) out.spc = spc;
  const mountKey = fallbackMountKey ?? (uid !== undefined ? uid : undefined);
  if (mountKey !== undefined) out.mountKey = mountKey;
  return out;
}

function providerCallFields(req: ProviderMountRequest): CallLogFields {
  let ctx: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(req.attributes);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) ctx = parsed as Record<string, unknown>;
  } catch {
    // A malformed attributes string is the use case's error to report; the log line just has less.
  }
  return callFields(ctx, mountKeyFromTargetPath(req.targetPath));
}

/**
 * The same mountKey as the publish's log line and event (`<podUid>/<volume_id>`): the target path
 * gives the pod's uid, the request its volume_id (the path's own last part is the volume's name).
 */
function unpublishCallFields(req: NodeUnpublishRequest): CallLogFields {
  const podUid = mountKeyFromTargetPath(req.targetPath)?.split('/')[0];
  return podUid !== undefined && req.volumeId !== '' ? { mountKey: mountKeyFor(podUid, req.volumeId) } : {};
}

function elapsedMs(started: number): number {
  return Math.round(performance.now() - started);
}

export interface DoorHandlerDeps<S> {
  service: S;
  inFlight: InFlight;
  metrics: AgentMetrics;
  logger: Logger;
  /** The SecretSource's clock: a call's arrival is compared with the source's reads. */
  clock?: Pick<Clock, 'now'>;
  /** Marks each publish's target while the call runs, so rotation leaves it alone. */
  publishing?: PublishingTargets;
}

/** Runs `fn` with the target marked as being published, when the agent tracks that. */
function publishingTarget<T>(publishing: PublishingTargets | undefined, targetPath: string, fn: () => Promise<T>): Promise<T> {
  return publishing === undefined ? fn() : publishing.during(targetPath, fn);
}

/**
 * Stamps a mount's arrival, then waits its turn before the mount's CPU work starts. Without the
 * wait, each call's parse/validate runs before the next call in the same socket read is even
 * decoded, so in a burst the arrivals (and the reads they may share) spread over the whole burst.
 * The turnstile releases one call per event-loop turn, so the burst's work does not stall the loop.
 */
async function arrival(clock: Pick<Clock, 'now'> | undefined, turnstile: Turnstile): Promise<{ receivedAt?: number }> {
  const receivedAt = clock?.now();
  await turnstile.pass();
  return receivedAt === undefined ? {} : { receivedAt };
}

export class ProviderDoorHandler implements ProviderMountHandler {
  private readonly deps: DoorHandlerDeps<ProviderMountService>;
  private readonly turnstile = new Turnstile();

  constructor(deps: DoorHandlerDeps<ProviderMountService>) {
    this.deps = deps;
  }

  mount(req: ProviderMountRequest, signal: AbortSignal): Promise<ProviderMountResponse> {
    const { service, inFlight, metrics, logger } = this.deps;
    return inFlight.run(async () => {
      const started = performance.now();
      const who = providerCallFields(req);
      try {
        // The signal lets the use case stop before it writes for a call the driver gave up on.
        const out = await publishingTarget(this.deps.publishing, req.targetPath, async () => service.mount({ ...req, ...(await arrival(this.deps.clock, this.turnstile)), signal }));
        const durationMs = elapsedMs(started);
        metrics.providerMount.inc({ outcome: 'ok', error_type: '' });
        metrics.mountDuration.observe({ door: 'provider', outcome: 'ok' }, durationMs / 1000);
        logger.info({ ...who, objects: out.objectVersion.length, durationMs }, 'provider mount complete');
        return out;
      } catch (e) {
        const reason = e instanceof SecretletError ? e.reason : 'Unknown';
        const durationMs = elapsedMs(started);
        metrics.providerMount.inc({ outcome: 'error', error_type: reason });
        metrics.mountDuration.observe({ door: 'provider', outcome: 'error' }, durationMs / 1000);
        logger.warn({ ...who, durationMs, ...errorFields(e) }, 'provider mount failed');
        throw e;
      }
    });
  }
}

export class CsiDoorHandler implements NodeVolumeHandler {
  private readonly deps: DoorHandlerDeps<NodeVolumeService>;
  private readonly turnstile = new Turnstile();

  constructor(deps: DoorHandlerDeps<NodeVolumeService>) {
    this.deps = deps;
  }

  publish(req: NodePublishRequest, signal: AbortSignal): Promise<void> {
    const { service, inFlight, metrics, logger } = this.deps;
    return inFlight.run(async () => {
      const started = performance.now();
      const uid = req.volumeContext[POD_UID];
      const who = callFields(req.volumeContext, uid ? mountKeyFor(uid, req.volumeId) : undefined);
      try {
        // The signal lets the use case stop before it mounts or writes for a call kubelet gave up on.
        await publishingTarget(this.deps.publishing, req.targetPath, async () => service.publish({ ...req, ...(await arrival(this.deps.clock, this.turnstile)), signal }));
        const durationMs = elapsedMs(started);
        metrics.publishOk('aws');
        metrics.mountDuration.observe({ door: 'csi', outcome: 'ok' }, durationMs / 1000);
        logger.info({ ...who, durationMs }, 'node publish volume complete');
      } catch (e) {
        // node_publish_error_total and the FailedMount Event come from the NodeVolumeListener,
        // which also sees masked republish failures that never reach this catch.
        const durationMs = elapsedMs(started);
        metrics.mountDuration.observe({ door: 'csi', outcome: 'error' }, durationMs / 1000);
        logger.warn({ ...who, durationMs, ...errorFields(e) }, 'node publish volume failed');
        throw e;
      }
    });
  }

  publishRejected(error: SecretletError, req: NodePublishRequest): void {
    // The driver counts a request its own checks refuse under its default error type.
    this.deps.metrics.publishError('aws', 'FailedToMount', error.reason);
    const uid = req.volumeContext[POD_UID];
    this.deps.logger.warn({ ...callFields(req.volumeContext, uid ? mountKeyFor(uid, req.volumeId) : undefined), ...errorFields(error) }, 'node publish volume refused');
  }

  unpublishRejected(error: SecretletError, req: NodeUnpublishRequest): void {
    // Upstream counts every failed NodeUnpublishVolume, its own input checks included.
    this.deps.metrics.unpublishError();
    this.deps.logger.warn({ ...unpublishCallFields(req), ...errorFields(error) }, 'node unpublish volume refused');
  }

  // The signal is not followed on purpose: an unpublish removes secret files from the node, and
  // finishing that after kubelet gave up is what its retry would do anyway.
  unpublish(req: NodeUnpublishRequest, _signal: AbortSignal): Promise<void> {
    const { service, inFlight, metrics, logger, publishing } = this.deps;
    return inFlight.run(async () => {
      const started = performance.now();
      const who = unpublishCallFields(req);
      try {
        // After any publish of this target still running (one kubelet gave up on), so what it
        // records is undone here rather than outliving the pod.
        if (publishing?.has(req.targetPath) === true) {
          logger.info(who, 'node unpublish volume waits for a publish of the same target that is still running');
          await publishing.settled(req.targetPath);
        }
        await service.unpublish(req);
        metrics.unpublishOk();
        logger.info({ ...who, durationMs: elapsedMs(started) }, 'node unpublish volume complete');
      } catch (e) {
        metrics.unpublishError();
        logger.warn({ ...who, durationMs: elapsedMs(started), ...errorFields(e) }, 'node unpublish volume failed');
        throw e;
      }
    });
  }
}
