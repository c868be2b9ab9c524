/**
 * What the Agent composes around the event log: the journal, the recorder both doors report to, the
 * live-mount memory rotation needs, the rotation reconciler and Secret sync.
 */
import type { FsyncPolicy } from '../adapters/eventlog/file-event-log.js';
import type { Logger } from '../adapters/logging/logger.js';
import type { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import type { Clock } from '../core/ports/clock.js';
import type { MountFreshness } from '../core/ports/mount-freshness.js';
import type { PayloadWriter } from '../core/ports/payload-writer.js';
import type { SecretSource } from '../core/ports/secret-source.js';
import type { PodStatusStore } from '../core/ports/pod-status-store.js';
import type { SpcCatalog } from '../core/ports/spc-catalog.js';
import { readMountedFiles, targetStamp } from '../adapters/fs/index.js';
import { KubeEventRecorder } from '../adapters/kubernetes/event-recorder.js';
import { KubeSecretWriter } from '../adapters/kubernetes/secret-writer.js';
import { KubeTokenMinter } from '../adapters/kubernetes/token-minter.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { LiveMounts } from './rotation-live-mounts.js';
import type { PublishingTargets } from './publishing-targets.js';
import { MountRecorder } from './rotation-mount-recorder.js';
import { RotationReconciler } from './rotation-reconciler.js';
import { RepublishFreshness } from './republish-freshness.js';
import { RestoredMounts } from './rotation-restored-mounts.js';
import { PodStatusFollower } from './pod-status-follower.js';
import { SecretSync } from './secret-sync.js';
import { EventJournal } from './event-journal.js';

export interface EventWiringOptions {
  stateDir: string;
  fsync: FsyncPolicy;
  /** @default 10_000 */
  compactEvery?: number;
  /** 0 disables the rotation timer (cycles can still be run by hand). */
  rotationIntervalMs: number;
  /** Create/update Kubernetes Secrets for SPCs with secretObjects (needs `kubeConfig`). */
  syncSecrets: boolean;
  kubeConfig: KubeConfig | undefined;
  source: SecretSource;
  logger: Logger;
  metrics: AgentMetrics;
  /** The CSI door's writer (rotation rewrites those mounts with it). */
  kubeletWriter?: PayloadWriter;
  /** The provider door's writer; undefined in driver-writes mode. */
  providerWriter?: PayloadWriter;
  /** Rotation rewrites in flight at once (RotationReconcilerOptions.maxConcurrentWrites). */
  rotationWriteConcurrency?: number;
  /** Targets the doors are publishing now; rotation leaves them alone. */
  publishing?: PublishingTargets;
  /**
   * `--mint-tokens`: restored kubelet-door mounts get a minted token and rejoin rotation at once
   * (needs `kubeConfig`, `kubeletWriter` and the SPC catalog of the kubelet door).
   */
  mintTokens?: boolean;
  catalog?: SpcCatalog;
  /** Where the kubelet door's SecretProviderClassPodStatus live: rotation keeps their `status.objects` current. */
  podStatuses?: Pick<PodStatusStore, 'setObjects'>;
  /** The SecretSource's clock: mounts and rotation cycles are stamped with it. */
  clock?: Pick<Clock, 'now'>;
  /**
   * How long a verified mount's republish is answered from memory (RepublishFreshness); 0 turns
   * that off. The agent passes the rotation interval minus the value cache's TTL.
   */
  republishWindowMs?: number;
}

/**
 * Everything that hangs off the event log, composed once for the Agent: the journal, the mount
 * recorder the doors report to, the rotation reconciler and the Secret sync consumer. `open` must
 * finish before the doors open (a mount must be recorded before kubelet is answered); `start` runs
 * the background loops; `close` stops them and closes the log last.
 */
export class EventWiring {
  readonly live = new LiveMounts();
  readonly recorder: MountRecorder;
  /** Undefined when republishes always read (no clock, or a window of 0). */
  readonly freshness: MountFreshness | undefined;
  journal: EventJournal | undefined;
  rotation: RotationReconciler | undefined;
  secretSync: SecretSync | undefined;
  podStatusFollower: PodStatusFollower | undefined;
  private readonly options: EventWiringOptions;

  constructor(options: EventWiringOptions) {
    this.options = options;
    this.recorder = new MountRecorder({
      journal: () => this.journal,
      live: this.live,
      ...(options.kubeletWriter ? { kubeletWriter: options.kubeletWriter } : {}),
      ...(options.providerWriter ? { providerWriter: options.providerWriter } : {}),
      targetStamp,
    });
    const windowMs = options.republishWindowMs ?? 0;
    this.freshness = options.clock !== undefined && windowMs > 0 ? new RepublishFreshness({
            live: this.live,
            windowMs,
            targetStamp,
            recordedSecretObjects: (mountKey) => this.journal?.state.mounts.get(mountKey)?.secretObjects,
            metrics: options.metrics,
          }) : undefined;
  }

  async open(): Promise<EventJournal> {
    const o = this.options;
    const journal = await EventJournal.open({
      stateDir: o.stateDir,
      fsync: o.fsync,
      logger: o.logger,
      metrics: o.metrics,
      ...(o.compactEvery === undefined ? {} : { compactEvery: o.compactEvery }),
    });
    this.journal = journal;
    // The components upstream's Events carry, so filters and alerts written for them keep working:
    // its Secret-sync controller's, and its (legacy) rotation reconciler's.
    const events = o.kubeConfig === undefined ? undefined : new KubeEventRecorder(o.kubeConfig, { component: 'csi-secrets-store-controller' });
    const rotationEvents = o.kubeConfig === undefined ? undefined : new KubeEventRecorder(o.kubeConfig, { component: 'csi-secrets-store-rotation' });
    const restored =
      o.mintTokens === true && o.kubeConfig !== undefined && o.catalog !== undefined && o.kubeletWriter !== undefined
        ? new RestoredMounts({ live: this.live, minter: new KubeTokenMinter(o.kubeConfig), catalog: o.catalog, kubeletWriter: o.kubeletWriter, readFiles: readMountedFiles, logger: o.logger })
        : undefined;
    this.rotation = new RotationReconciler({
      journal,
      ...(o.rotationWriteConcurrency === undefined ? {} : { maxConcurrentWrites: o.rotationWriteConcurrency }),
      ...(o.publishing === undefined ? {} : { publishing: o.publishing }),
      live: this.live,
      source: o.source,
      logger: o.logger,
      metrics: o.metrics,
      intervalMs: o.rotationIntervalMs,
      targetStamp,
      ...(o.clock ? { clock: o.clock } : {}),
      ...(restored ? { restored } : {}),
      ...(rotationEvents ? { warn: (pod: { namespace: string; name: string; uid: string }, reason: string, message: string) => rotationEvents.warning({ kind: 'Pod', ...pod }, reason, message) } : {}),
    });
    if (o.syncSecrets && o.kubeConfig !== undefined && events !== undefined) {
      this.secretSync = new SecretSync({
        journal,
        store: new KubeSecretWriter(o.kubeConfig),
        events,
        readFiles: readMountedFiles,
        logger: o.logger,
        metrics: o.metrics,
      });
    }
    if (o.podStatuses !== undefined) {
      // Status patches wait for the cycle that caused them: the pods' files come first.
      this.podStatusFollower = new PodStatusFollower({ journal, store: o.podStatuses, logger: o.logger, goesFirst: () => this.rotation?.inFlight });
    }
    return journal;
  }

  start(): void {
    this.rotation?.start();
    this.secretSync?.start();
    this.podStatusFollower?.start();
  }

  async close(): Promise<void> {
    await this.rotation?.stop();
    await this.secretSync?.stop();
    await this.podStatusFollower?.stop();
    await this.journal?.close();
  }
}
