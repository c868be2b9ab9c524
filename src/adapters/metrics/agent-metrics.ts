/**
 * Prometheus metrics. The upstream driver's names and labels are kept (driver.md §6.1) so existing
 * dashboards and alerts keep working; secretlet's own series use the `secretlet_` prefix. Labels carry
 * codes, actions and provider names only — never object names with values, never tokens.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const OS_TYPE = process.platform;
// Upstream's histogram view: ExponentialBucketsRange(0.1, 2, 11).
const UPSTREAM_BUCKETS = Array.from({ length: 11 }, (_, i) => Number((0.1 * Math.pow(20, i / 10)).toFixed(4)));

export class AgentMetrics {
  readonly registry = new Registry();
  readonly nodePublish = new Counter({ name: 'node_publish_total', help: 'Successful NodePublishVolume calls.', labelNames: ['provider', 'os_type'], registers: [this.registry] });
  readonly nodePublishError = new Counter({ name: 'node_publish_error_total', help: 'Failed (or masked republish) NodePublishVolume calls.', labelNames: ['provider', 'error_type', 'os_type'], registers: [this.registry] });
  readonly nodeUnpublish = new Counter({ name: 'node_unpublish_total', help: 'Successful NodeUnpublishVolume calls.', labelNames: ['os_type'], registers: [this.registry] });
  readonly nodeUnpublishError = new Counter({ name: 'node_unpublish_error_total', help: 'Failed NodeUnpublishVolume calls.', labelNames: ['os_type'], registers: [this.registry] });
  readonly rotationReconcile = new Counter({ name: 'rotation_reconcile_total', help: 'Mounts a rotation cycle reconciled: verified unchanged or rewritten (mounts it skipped are not counted).', labelNames: ['provider', 'os_type', 'rotated'], registers: [this.registry] });
  readonly rotationReconcileError = new Counter({ name: 'rotation_reconcile_error_total', help: 'Mounts a rotation cycle could not reconcile (their old content stays).', labelNames: ['provider', 'error_type', 'os_type', 'rotated'], registers: [this.registry] });
  readonly rotationReconcileDuration = new Histogram({ name: 'rotation_reconcile_duration_sec', help: 'Per reconciled mount: from the fetch of its identity group to its verification or write.', labelNames: ['os_type'], buckets: UPSTREAM_BUCKETS, registers: [this.registry] });

  readonly rotationErrorReasons = new Counter({ name: 'secretlet_rotation_error_reasons_total', help: 'Mounts a rotation cycle could not reconcile, by secretlet\'s own reason (rotation_reconcile_error_total keeps the driver\'s error type).', labelNames: ['reason'], registers: [this.registry] });
  readonly publishErrorReasons = new Counter({ name: 'secretlet_node_publish_error_reasons_total', help: 'Failed (or masked republish) NodePublishVolume calls by secretlet\'s own reason (node_publish_error_total keeps the driver\'s error types).', labelNames: ['reason'], registers: [this.registry] });
  readonly providerMount = new Counter({ name: 'secretlet_provider_mount_total', help: 'Provider-door Mount calls by outcome.', labelNames: ['outcome', 'error_type'], registers: [this.registry] });
  readonly mountDuration = new Histogram({ name: 'secretlet_mount_duration_seconds', help: 'End-to-end mount duration by door and outcome (failed calls too: a slow failure near the caller deadline is what to see).', labelNames: ['door', 'outcome'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly awsCalls = new Counter({ name: 'secretlet_aws_calls_total', help: 'AWS API calls by action and outcome.', labelNames: ['action', 'outcome'], registers: [this.registry] });
  readonly awsBatchSize = new Histogram({ name: 'secretlet_aws_batch_size', help: 'Objects per batched AWS call.', labelNames: ['action'], buckets: [1, 2, 5, 10, 15, 20], registers: [this.registry] });
  readonly credentialCache = new Counter({ name: 'secretlet_credential_cache_total', help: 'Credential cache lookups.', labelNames: ['result', 'mode'], registers: [this.registry] });
  readonly republishSkipped = new Counter({ name: 'secretlet_republish_skipped_total', help: 'Republishes (and repeated provider Mounts) answered without a read: the mount was verified within the rotation interval.', labelNames: ['door'], registers: [this.registry] });
  readonly coalesced = new Counter({ name: 'secretlet_coalesced_requests_total', help: 'Object requests answered by a call made for another request (same window, in flight, or sent after the request arrived).', registers: [this.registry] });
  readonly rotationCycleDuration = new Histogram({ name: 'secretlet_rotation_cycle_duration_seconds', help: 'Duration of one rotation cycle over all live mounts.', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  readonly rotationChangedObjects = new Counter({ name: 'secretlet_rotation_changed_objects_total', help: 'Objects whose version changed in a rotation cycle.', registers: [this.registry] });
  readonly liveMounts = new Gauge({ name: 'secretlet_live_mounts', help: 'Mounts currently registered.', registers: [this.registry] });
  /**
   * Measures the event log's bytes when the metrics are scraped (the event journal sets it): the log
   * grows with every mount, and a gauge set only at open and compaction read 0 for hours.
   */
  measureEventLogBytes: (() => Promise<number | undefined>) | undefined;
  readonly eventLogBytes: Gauge = new Gauge({
    name: 'secretlet_event_log_bytes',
    help: 'Bytes in the event log: segments and snapshot.',
    registers: [this.registry],
    collect: async () => {
      const bytes = await this.measureEventLogBytes?.();
      if (bytes !== undefined) this.eventLogBytes.set(bytes);
    },
  });
  readonly eventLogReplaySeconds = new Gauge({ name: 'secretlet_event_log_replay_seconds', help: 'Time the last start-up replay took.', registers: [this.registry] });
  /** Non-zero until an operator removes them: each is a log that failed its checks at a start. */
  readonly damagedStateSets = new Gauge({
    name: 'secretlet_state_damaged_sets',
    help: 'Damaged event logs set aside in the state directory (damaged-*/), counted at start.',
    registers: [this.registry],
  });
  readonly secretSyncLag = new Gauge({ name: 'secretlet_secret_sync_lag_events', help: 'Events appended but not yet processed by Secret sync.', registers: [this.registry] });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  publishOk(provider: string): void {
    this.nodePublish.inc({ provider, os_type: OS_TYPE });
  }
  /** `errorType`: the driver's error type (driver.md §6.1); `reason`: secretlet's own, when known. */
  publishError(provider: string, errorType: string, reason?: string): void {
    this.nodePublishError.inc({ provider, error_type: errorType, os_type: OS_TYPE });
    if (reason !== undefined) this.publishErrorReasons.inc({ reason });
  }
  unpublishOk(): void {
    this.nodeUnpublish.inc({ os_type: OS_TYPE });
  }
  unpublishError(): void {
    this.nodeUnpublishError.inc({ os_type: OS_TYPE });
  }
  /**
   * One mount reconciled by rotation, changed or not, and how long it took: upstream counts every
   * remount it did not skip, whether the content changed or not (`rotated` is always "true" there too).
   */
  rotationReconciled(provider: string, seconds: number): void {
    this.rotationReconcile.inc({ provider, os_type: OS_TYPE, rotated: 'true' });
    this.rotationReconcileDuration.observe({ os_type: OS_TYPE }, seconds);
  }
  /** `errorType`: secretlet's reason (a fixed name in the code); anything else is counted as `Other`. */
  /**
   * A mount rotation could not reconcile. Upstream's reconciler counts a failed provider mount as
   * `FailedToRotate` (driver.md §5.2), which every failure here is (the pod, its class and its volume
   * are known to the agent); secretlet's reason goes to its own series, as for publishes.
   */
  rotationFailed(provider: string, reason: string): void {
    this.rotationReconcileError.inc({ provider, error_type: 'FailedToRotate', os_type: OS_TYPE, rotated: 'true' });
    this.rotationErrorReasons.inc({ reason: boundedErrorType(reason) });
  }
}

/**
 * Reasons are identifiers chosen in the code, so the label stays a short, fixed set; a value that
 * is not shaped like one (a reason carried over from some remote answer) must not open a new
 * series per distinct text.
 */
function boundedErrorType(reason: string): string {
  return /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(reason) ? reason : 'Other';
}
