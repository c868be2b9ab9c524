/**
 * The composition root: the one place that reads compiled options and wires core use cases to
 * adapters. `Agent.create` builds everything without binding anything; `start` opens the doors
 * and the HTTP side door; `stop` drains (stop accepting, finish in-flight mounts within the drain
 * timeout, close servers, flush state).
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { createAwsSecretSource, defaultBudgets, DefaultRegionResolver, describeBudgets, systemClock } from '../adapters/aws/index.js';
import type { AwsSecretSource } from '../adapters/aws/index.js';
import { LocalTargetDirectory, TmpfsMounter } from '../adapters/fs/index.js';
import { LockedTargetWriter } from '../adapters/fs/locked-target-writer.js';
import { TargetLocks } from '../adapters/fs/target-locks.js';
import { startCsiServer, startProviderServer } from '../adapters/grpc/index.js';
import type { UdsServer } from '../adapters/grpc/index.js';
import { PooledKubeConfig, loadKubeConfig } from '../adapters/kubernetes/kube-config.js';
import { NodeLabelRegionSource } from '../adapters/kubernetes/node-region-source.js';
import { KubePodStatusStore } from '../adapters/kubernetes/pod-status-store.js';
import { KubeEventRecorder } from '../adapters/kubernetes/event-recorder.js';
import { CachedServiceAccountDirectory } from '../adapters/kubernetes/service-account-directory.js';
import { WatchedSpcCatalog } from '../adapters/kubernetes/spc-catalog.js';
import type { Logger } from '../adapters/logging/logger.js';
import { createLogger } from '../adapters/logging/logger.js';
import { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import { startHttpServer } from '../adapters/metrics/http-server.js';
import type { RunningHttpServer } from '../adapters/metrics/http-server.js';
import type { CompiledAgentOptions } from '../config/agent-options.js';
import type { Clock } from '../core/ports/clock.js';
import type { MountWorker } from '../core/ports/mount-worker.js';
import type { SecretSource } from '../core/ports/secret-source.js';
import type { VolumeMounter } from '../core/ports/volume-mounter.js';
import { NodeVolumeService } from '../core/usecases/node-volume.js';
import { PerMountSecretSource } from '../adapters/aws/per-mount-source.js';
import { createMountWorker, createPayloadWriter } from '../workers/index.js';
import { ProviderMountService } from '../core/usecases/provider-mount.js';
import { CsiDoorHandler, ProviderDoorHandler } from './door-handlers.js';
import { InFlight } from './in-flight.js';
import { PublishingTargets } from './publishing-targets.js';
import { OpsNodeVolumeListener, combineNodeVolumeListeners } from './node-listener.js';
import { EventWiring } from './event-wiring.js';
import type { EventJournal } from './event-journal.js';
import type { RotationReconciler } from './rotation-reconciler.js';
import type { PodStatusFollower } from './pod-status-follower.js';
import type { SecretSync } from './secret-sync.js';
import { Lifecycle } from './lifecycle.js';
import type { AgentState } from './lifecycle.js';
import { MetricsAwsObserver } from './metrics-observer.js';
import { ASCP_RUNTIME_NAME, SECRETLET_VERSION } from './version.js';
import { Turnstile } from './turnstile.js';

export interface AgentDependencies {
  logger?: Logger;
  kubeConfig?: KubeConfig;
  /** Replaces the tmpfs mounter (tests without CAP_SYS_ADMIN). */
  mounter?: VolumeMounter;
  metrics?: AgentMetrics;
  /** The per-target lock shared by the kubelet door's writes and unpublish cleanups (tests observe it). */
  targetLocks?: TargetLocks;
}

/** AWS read groups sent per event-loop turn when many windows close at once (~1-2 ms of SDK work each). */
const AWS_GROUPS_SENT_PER_TURN = 2;

export class Agent {
  readonly options: CompiledAgentOptions;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly source: AwsSecretSource;
  /** What mounts fetch through: `source`, or the upstream-call-pattern model (benchmark only). */
  private readonly fetchSource: SecretSource & { close(): void };
  private readonly worker: MountWorker;
  private readonly lifecycle: Lifecycle;
  /** Event log, mount registry, rotation and Secret sync (opened in start, before the doors). */
  private readonly eventWiring: EventWiring;
  private readonly inFlight = new InFlight();
  /** Shared by both doors and rotation: a target being published is not rewritten meanwhile. */
  private readonly publishing = new PublishingTargets();
  private readonly clock: Clock;
  private readonly kubeConfig: KubeConfig;
  /** The tmpfs mounter this agent built (its mount helper process is closed on stop). */
  private ownMounter: TmpfsMounter | undefined;
  private readonly catalog: WatchedSpcCatalog | undefined;
  /** The pending retry of the SecretProviderClass watch while the API server does not answer. */
  private catalogRetry: NodeJS.Timeout | undefined;
  private readonly providerService: ProviderMountService | undefined;
  private readonly nodeService: NodeVolumeService | undefined;
  private readonly servers: UdsServer[] = [];
  private http: RunningHttpServer | undefined;
  private readonly readiness = { doors: false, eventLog: true, apiServer: false };

  private constructor(options: CompiledAgentOptions, deps: AgentDependencies) {
    this.options = options;
    this.logger = deps.logger ?? createLogger({ level: options.logLevel });
    this.metrics = deps.metrics ?? new AgentMetrics();
    this.lifecycle = new Lifecycle((from, to) => this.logger.info({ from, to }, 'agent state'));
    const kc = deps.kubeConfig ?? loadKubeConfig(options.kubeconfig, { http2: options.kubeApiHttp2 });
    this.kubeConfig = kc;
    const serviceAccounts = new CachedServiceAccountDirectory(kc);
    const node = new NodeLabelRegionSource(kc, options.nodeName);
    const regions = new DefaultRegionResolver({ defaultRegion: options.region, node });
    // Endpoint overrides (local emulator); unset, the SDK's own resolution and the link-local agent apply.
    const endpoints = {
      ...(options.awsEndpoint !== '' ? { endpoint: options.awsEndpoint } : {}),
      ...(options.podIdentityEndpoint !== '' ? { podIdentityEndpoint: options.podIdentityEndpoint } : {}),
    };
    // One clock for the source and the doors: a mount's arrival time is compared with the source's reads.
    const clock = systemClock();
    this.clock = clock;
    const sendTurnstile = new Turnstile(AWS_GROUPS_SENT_PER_TURN);
    this.source = createAwsSecretSource({
      ...endpoints,
      clock,
      serviceAccounts,
      coalesceWindowMs: options.coalesceWindowMs,
      // Groups whose windows close together (a rotation cycle opens one per identity at once) are
      // sent two per event-loop turn, so their SDK work does not stall the loop in one piece.
      sendTurn: () => sendTurnstile.pass(),
      valueCacheTtlMs: options.valueCacheTtlMs,
      fleetSize: options.fleetSize,
      accountQuotas: options.accountQuotas,
      observer: new MetricsAwsObserver(this.metrics),
    });
    this.fetchSource =
      options.fetchStrategy === 'per-mount'
        ? new PerMountSecretSource({
            ...endpoints,
            serviceAccounts,
            observer: new MetricsAwsObserver(this.metrics),
          })
        : this.source;
    this.worker = createMountWorker({
      poolSize: options.poolSize,
      maxQueue: options.poolMaxQueue,
      // Piscina replaces the thread; the log says it happened (code, reason and the thread's error text).
      onThreadError: (e) => this.logger.error({ code: e.code, reason: e.reason, error: e.message }, 'mount worker thread failed; replaced'),
    });
    // Before the event wiring: with --mint-tokens, rotation re-plans restored mounts from it.
    const catalog = options.mode !== 'provider' ? new WatchedSpcCatalog(kc) : undefined;
    this.catalog = catalog;
    // The kubelet door writes SecretProviderClassPodStatus; rotation keeps their objects current.
    const podStatuses = options.mode !== 'provider' ? new KubePodStatusStore(kc) : undefined;
    const mounter = catalog !== undefined && podStatuses !== undefined ? this.kubeletMounter(deps) : undefined;
    // With threads (poolSize > 0) payload writes run in the pool too, for both doors and rotation
    // rewrites; inline (0) they are the direct writers. Driver-writes mode has no provider writer.
    // The kubelet door's writes and its unpublish cleanups share one per-target lock, so a rotation
    // rewrite never lands in a target half torn down, and one that waited finds it unmounted.
    const targetLocks = deps.targetLocks ?? new TargetLocks();
    const pooledKubeletWriter = createPayloadWriter({ writer: 'kubelet', worker: this.worker });
    const kubeletWriter =
      mounter === undefined ? pooledKubeletWriter : new LockedTargetWriter({ writer: pooledKubeletWriter, locks: targetLocks, isMountPoint: (target) => mounter.isMountPoint(target) });
    const providerWriter = options.driverWritesSecrets ? undefined : createPayloadWriter({ writer: 'provider', worker: this.worker });
    this.eventWiring = new EventWiring({
      stateDir: options.stateDir,
      fsync: options.eventLogFsync,
      compactEvery: options.eventLogCompactEvery,
      rotationIntervalMs: options.rotationIntervalMs,
      publishing: this.publishing,
      // A quarter of the pool's queue at most, so a cycle that changed every mount leaves the rest
      // to the doors' new mounts (each queues a prepare, a render and a write).
      ...(options.poolSize > 0 ? { rotationWriteConcurrency: Math.max(1, Math.min(32, Math.floor(options.poolMaxQueue / 4))) } : {}),
      syncSecrets: options.syncSecrets && options.mode !== 'provider',
      kubeConfig: kc,
      source: this.fetchSource,
      logger: this.logger,
      metrics: this.metrics,
      kubeletWriter,
      ...(providerWriter ? { providerWriter } : {}),
      mintTokens: options.mintTokens,
      ...(catalog ? { catalog } : {}),
      ...(podStatuses ? { podStatuses } : {}),
      clock,
      // The per-mount model re-reads on every republish, as upstream does once its poll interval passed.
      republishWindowMs: options.fetchStrategy === 'per-mount' ? 0 : Math.max(0, options.rotationIntervalMs - options.valueCacheTtlMs),
    });
    const freshness = this.eventWiring.freshness;
    if (options.mode !== 'kubelet') {
      this.providerService = new ProviderMountService({
        regions,
        source: this.fetchSource,
        worker: this.worker,
        clock,
        writer: providerWriter,
        listener: this.eventWiring.recorder,
        ...(freshness ? { freshness } : {}),
      });
    }
    if (catalog !== undefined && podStatuses !== undefined && mounter !== undefined) {
      this.nodeService = new NodeVolumeService({
        regions,
        source: this.fetchSource,
        worker: this.worker,
        clock,
        nodeName: options.nodeName,
        catalog,
        mounter,
        targets: new LocalTargetDirectory({ mounter, locks: targetLocks }),
        writer: kubeletWriter,
        podStatuses,
        tmpfsSizeBytes: options.tmpfsSizeBytes,
        ...(freshness ? { freshness } : {}),
        listener: combineNodeVolumeListeners(
          new OpsNodeVolumeListener({ events: new KubeEventRecorder(kc), metrics: this.metrics, logger: this.logger }),
          this.eventWiring.recorder,
        ),
      });
    }
  }

  /** The kubelet door's mounter: the one given, or a tmpfs mounter this agent owns (closed on stop). */
  private kubeletMounter(deps: AgentDependencies): VolumeMounter {
    if (deps.mounter !== undefined) return deps.mounter;
    // 0755: pods running as any user must be able to read their files (upstream leaves the kernel default 1777).
    const own = new TmpfsMounter({
      rootMode: 0o755,
      onFallback: (reason) => this.logger.warn({ reason }, 'tmpfs volumes are mounted with mount(8)/umount(8): the syscall path is unavailable'),
    });
    this.ownMounter = own;
    return own;
  }

  static create(options: CompiledAgentOptions, deps: AgentDependencies = {}): Agent {
    return new Agent(options, deps);
  }

  get state(): AgentState {
    return this.lifecycle.state;
  }

  /** The bound port of /metrics, /healthz and /readyz (useful with `--metrics-addr 127.0.0.1:0`); undefined when not serving. */
  get metricsPort(): number | undefined {
    return this.http?.port;
  }

  /** The event log and its projections (undefined before start). */
  get journal(): EventJournal | undefined {
    return this.eventWiring.journal;
  }

  get rotation(): RotationReconciler | undefined {
    return this.eventWiring.rotation;
  }

  get secretSync(): SecretSync | undefined {
    return this.eventWiring.secretSync;
  }

  get podStatusFollower(): PodStatusFollower | undefined {
    return this.eventWiring.podStatusFollower;
  }

  ready(): { ready: boolean; checks: Record<string, boolean> } {
    const checks = { ...this.readiness, running: this.lifecycle.state === 'running' };
    if (this.eventWiring.journal?.failure !== undefined) checks.eventLog = false;
    return { ready: Object.values(checks).every(Boolean), checks };
  }

  /**
   * Liveness: false once the event log refuses appends for good (EventJournal.failure). Nothing in
   * the process can recover it; a restart reopens the log, so kubelet should restart the container.
   */
  live(): { live: boolean; checks: Record<string, boolean> } {
    const checks = { eventLog: this.eventWiring.journal?.failure === undefined };
    return { live: checks.eventLog, checks };
  }

  async start(): Promise<void> {
    this.lifecycle.to('starting');
    if (this.options.fetchStrategy === 'secretlet') {
      // What --fleet-size and --account-quotas came to: a budget too small shows as slow first mounts, one too large as AWS throttling.
      const budgets = describeBudgets(defaultBudgets(this.options.fleetSize, this.options.accountQuotas));
      this.logger.info({ fleetSize: this.options.fleetSize, budgets }, 'AWS call budgets per node');
    }
    try {
      if (this.options.metricsAddr !== '') {
        this.http = await startHttpServer(this.options.metricsAddr, this.metrics.registry, this);
      }
      await this.worker.start();
      // The log opens (and replays) before any door: a mount must be recorded before it is acknowledged.
      this.readiness.eventLog = false;
      await this.eventWiring.open();
      this.readiness.eventLog = true;
      // The API server may not answer yet (a node booting): the doors open anyway, /readyz stays 503
      // until the SecretProviderClass watch is established, and lookups meanwhile fall back to GETs.
      if (this.catalog !== undefined) await this.watchCatalog(this.catalog, 500);
      else this.readiness.apiServer = true;
      if (this.providerService !== undefined) {
        await mkdir(dirname(this.options.providerSocket), { recursive: true });
        const handler = new ProviderDoorHandler({ service: this.providerService, inFlight: this.inFlight, publishing: this.publishing, metrics: this.metrics, logger: this.logger, clock: this.clock });
        // ASCP's runtime name (aws-provider.md §1.3, a "must match"), so a driver's health-check logs read
        // as for the provider it replaces; the version says which one answers.
        this.servers.push(await startProviderServer(this.options.providerSocket, { runtimeName: ASCP_RUNTIME_NAME, runtimeVersion: `secretlet-${SECRETLET_VERSION}`, handler }));
        this.logger.info({ socket: this.options.providerSocket }, 'provider door listening');
      }
      if (this.nodeService !== undefined) {
        const handler = new CsiDoorHandler({ service: this.nodeService, inFlight: this.inFlight, publishing: this.publishing, metrics: this.metrics, logger: this.logger, clock: this.clock });
        this.servers.push(
          await startCsiServer(this.options.csiEndpoint, {
            driverName: this.options.driverName,
            vendorVersion: SECRETLET_VERSION,
            nodeId: this.options.nodeName,
            handler,
            isReady: () => this.ready().ready,
          }),
        );
        this.logger.info({ endpoint: this.options.csiEndpoint }, 'csi door listening');
      }
      this.readiness.doors = true;
      this.eventWiring.start();
      this.lifecycle.to('running');
    } catch (e) {
      this.lifecycle.to('failed');
      await this.closeAll(0);
      throw e;
    }
  }

  /** Resolves after the first attempt; on failure keeps retrying in the background with backoff. */
  private watchCatalog(catalog: WatchedSpcCatalog, retryMs: number): Promise<void> {
    return catalog.start().then(
      () => {
        this.readiness.apiServer = true;
      },
      (e: unknown) => {
        if (this.lifecycle.state === 'draining' || this.lifecycle.state === 'stopped' || this.lifecycle.state === 'failed') return;
        this.logger.warn({ error: e instanceof Error ? e.message : String(e), retryMs }, 'API server not answering; retrying the SecretProviderClass watch');
        // Cleared by closeAll: a retry after stop would open a watch nobody stops.
        this.catalogRetry = setTimeout(() => void this.watchCatalog(catalog, Math.min(retryMs * 2, 30_000)), retryMs);
        this.catalogRetry.unref();
      },
    );
  }

  /** Door calls still running (what a forced exit cuts off). */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Drain: refuse new calls, wait for in-flight ones up to the drain timeout, then close everything. */
  async stop(): Promise<{ drained: boolean }> {
    const state = this.lifecycle.state;
    if (state === 'stopped' || state === 'draining') return { drained: true };
    if (state === 'created') {
      this.lifecycle.to('stopped');
      return { drained: true };
    }
    if (state !== 'failed') this.lifecycle.to('draining');
    const drained = await this.inFlight.drain(this.options.drainTimeoutMs);
    if (!drained) this.logger.warn({ inFlight: this.inFlight.size }, 'drain timeout reached with mounts still in flight');
    await this.closeAll(drained ? 2000 : 0);
    this.lifecycle.to('stopped');
    return { drained };
  }

  private async closeAll(graceMs: number): Promise<void> {
    await Promise.allSettled(this.servers.splice(0).map((s) => s.stop(graceMs)));
    clearTimeout(this.catalogRetry);
    await this.catalog?.stop().catch(() => undefined);
    // After the doors (in-flight mounts still record), before the source (a rotation cycle still fetches).
    await this.eventWiring.close().catch((e: unknown) => this.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'closing the event log failed'));
    this.source.close();
    if (this.fetchSource !== this.source) this.fetchSource.close();
    await this.worker.close();
    // After the doors and rotation: unpublishes and rewrites may still unmount until here.
    await this.ownMounter?.close().catch(() => undefined);
    await this.http?.close();
    this.http = undefined;
    // Keep-alive connections to the API server (after everything that still calls it).
    if (this.kubeConfig instanceof PooledKubeConfig) this.kubeConfig.closeConnections();
  }
}
