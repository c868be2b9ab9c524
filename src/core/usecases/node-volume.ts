/**
 * The kubelet door's use case: NodePublishVolume / NodeUnpublishVolume for inline
 * `secrets-store.csi.k8s.io` volumes, following the upstream driver's order of checks
 * (shared/spec/driver.md §1.5) and doing better where it leaves pods exposed:
 * - the whole mount is validated (SPC, parameters, every object) before a tmpfs is mounted;
 * - a failed first mount leaves no tmpfs and no directory; a failed republish keeps the old files,
 *   unless there are none (a first mount cut short by a crash), when it fails as a first mount;
 * - once kubelet has given up on the call (deadline, cancel), nothing more is mounted or written:
 *   the pod may be gone, or kubelet's retry may own the target by now;
 * - files land through the kubelet-style atomic writer, so a reader never sees a torn set;
 * - a republish with nothing changed touches neither the disk nor the API server.
 */
import { SecretletError, asSecretletError, invalidArgument } from '../errors.js';
import { mountKeyFor } from '../events/mount-events.js';
import type { CallerSignal } from '../ports/caller-signal.js';
import type { MountFreshness } from '../ports/mount-freshness.js';
import type { PayloadWriter } from '../ports/payload-writer.js';
import { podStatusName, statusObjects } from '../ports/pod-status-store.js';
import type { PodStatusStore } from '../ports/pod-status-store.js';
import type { SecretProviderClassSpec, SpcCatalog } from '../ports/spc-catalog.js';
import type { PublishUndo, TargetDirectory, VolumeMounter } from '../ports/volume-mounter.js';
import { noObjectsProblem, parametersProblem, providerProblem } from '../spc/spc-checks.js';
import { ATTR_POD_NAME, ATTR_POD_NAMESPACE, ATTR_TOKENS } from '../spc/attributes.js';
import type { FetchedMount, MountPipelineDeps } from './mount-pipeline.js';
import { fetchMount, prepareMount } from './mount-pipeline.js';
import { callerGoneError } from './caller-gone.js';
import { checkTmpfsRoom } from './tmpfs-room.js';
import { withRollbackFailure } from './rollback-failure.js';

export interface NodePublishInput {
  volumeId: string;
  targetPath: string;
  volumeContext: Record<string, string>;
  secrets: Record<string, string>;
  readonly: boolean;
  /** When the door received the call (MountPipelineDeps.clock); now when unset. */
  receivedAt?: number;
  /** Aborts when kubelet gives up on the call (its deadline passed, or it cancelled). */
  signal?: CallerSignal;
}

export interface NodeUnpublishInput {
  volumeId: string;
  targetPath: string;
}

/** What happened to one publish, for the event log, metrics and Secret sync. */
export interface PublishReport {
  volumeId: string;
  targetPath: string;
  spc: SecretProviderClassSpec;
  mount: FetchedMount;
  firstMount: boolean;
  changed: boolean;
  /** The target's stamp the write left (WriteOutcome.stamp), when the writer took one. */
  stamp?: string;
}

/**
 * Which step of a publish failed, in the driver's words: the `error_type` of its
 * `node_publish_error_total` (driver.md §6.1), so dashboards built on it keep working. '' is a
 * failed SecretProviderClassPodStatus write, as upstream.
 */
export type PublishErrorType = 'FailedToMount' | 'FailedToEnsureMountPoint' | 'SecretProviderClassNotFound' | 'GRPCProviderError' | 'FileWriteError' | '';

export interface PublishFailure {
  volumeId: string;
  targetPath: string;
  volumeContext: Record<string, string>;
  error: SecretletError;
  firstMount: boolean;
  errorType: PublishErrorType;
}

export interface NodeVolumeListener {
  published(report: PublishReport): Promise<void>;
  publishFailed(info: PublishFailure): Promise<void>;
  unpublished(info: { volumeId: string; targetPath: string }): Promise<void>;
}

export interface NodeVolumeServiceOptions extends MountPipelineDeps {
  nodeName: string;
  catalog: SpcCatalog;
  mounter: VolumeMounter;
  targets: TargetDirectory;
  writer: PayloadWriter;
  podStatuses: PodStatusStore;
  tmpfsSizeBytes: number;
  listener?: NodeVolumeListener;
  /**
   * Lets a republish of a mount the agent keeps current (rotation) return without reading AWS,
   * writing or touching the API server, as upstream's rotation poll interval does. Absent: every
   * republish runs the whole publish.
   */
  freshness?: MountFreshness;
}

const SPC_KEY = 'secretProviderClass';

/** How far one publish got, for what its failure reports and what it must undo. */
interface PublishProgress {
  /** The step in progress, for the metric's error type (set before each step that has its own). */
  errorType: PublishErrorType;
  /** This call created the target directory. */
  createdDir: boolean;
  /** This call mounted the tmpfs. */
  mounted: boolean;
  /** Set when the call stopped because kubelet had given up on it. */
  callerGone: boolean;
}

/**
 * The driver's wrapper around a failure (driver.md §1.5 steps 19, 20): what kubelet shows in the
 * pod's FailedMount event starts with it. Code, reason and field stay the cause's.
 */
function wrapError(e: unknown, context: string): SecretletError {
  const cause = asSecretletError(e, { code: 'INTERNAL', reason: 'Internal' });
  return new SecretletError({ code: cause.code, reason: cause.reason, message: `${context}, err: ${cause.message}`, cause, ...(cause.field === undefined ? {} : { field: cause.field }) });
}

export class NodeVolumeService {
  private readonly options: NodeVolumeServiceOptions;

  constructor(options: NodeVolumeServiceOptions) {
    this.options = options;
  }

  async publish(req: NodePublishInput): Promise<void> {
    const { mounter } = this.options;
    const receivedAt = req.receivedAt ?? this.options.clock?.now();
    const firstMount = !(await mounter.isMountPoint(req.targetPath));
    const progress: PublishProgress = { errorType: 'FailedToMount', callerGone: false, createdDir: false, mounted: false };
    try {
      await this.publishOnce(req, firstMount, receivedAt, progress);
    } catch (e) {
      const error = asSecretletError(e, { code: 'INTERNAL', reason: 'Internal' });
      // A mount point with no payload is a first mount that never finished, not a volume to keep.
      const keepsFiles = !firstMount && (await this.holdsPayload(req.targetPath));
      await this.reportFailure({ volumeId: req.volumeId, targetPath: req.targetPath, volumeContext: req.volumeContext, error, firstMount: !keepsFiles, errorType: progress.errorType });
      // A failed republish keeps the mount and the old files. Upstream masks the error for the same
      // reason (kubelet removes the mount dir when a republish fails, k/k#121271); the failure is
      // still reported through the listener (Event, metric, event log).
      if (keepsFiles) return;
      // Undo what this call did, and only that: kubelet retries from scratch, and whatever else is at
      // the target (a directory kubelet made, files put there before) stays, as upstream leaves it.
      // A mount point found without a payload is this agent's own first mount, cut short: it goes
      // too, unless kubelet gave up before this call touched anything, when by now the target may
      // hold the mount of kubelet's retry.
      const leftover = !firstMount && !progress.callerGone;
      if (progress.mounted || progress.createdDir || leftover) {
        await this.rollback(req.targetPath, { unmount: progress.mounted || leftover, removeDir: progress.createdDir }, error);
      }
      throw error;
    }
  }

  /**
   * Whether a failed republish may be masked: only when the target holds the files of an earlier
   * publish. The agent may have been killed (SIGKILL, OOM, drain timeout) between mounting the tmpfs
   * and writing the payload; kubelet's retry then finds a mount point with nothing in it, and masking
   * its failure would start the pod on an empty secrets volume. Asked on this failure path only, so a
   * republish that succeeds pays nothing for it. A check that fails counts as no payload: masking is
   * only safe when the old files are known to be there.
   */
  private async holdsPayload(targetPath: string): Promise<boolean> {
    try {
      return await this.options.targets.hasPayload(targetPath);
    } catch {
      return false;
    }
  }

  /**
   * Tells the listener about a failure. Its own failure (the event log on a full disk) must change
   * neither the rollback nor what kubelet is told, so it is dropped here: core has no logger, and the
   * agent's listeners run side by side (combineNodeVolumeListeners), so the ops listener's log line,
   * metric and Event are not lost when another listener fails.
   */
  private async reportFailure(info: PublishFailure): Promise<void> {
    try {
      await this.options.listener?.publishFailed(info);
    } catch {
      // Dropped on purpose, see above.
    }
  }

  /** Undoes a failed first mount; if that fails too, kubelet still gets the publish's own error. */
  private async rollback(targetPath: string, undo: PublishUndo, error: SecretletError): Promise<void> {
    try {
      await this.options.targets.undoPublish(targetPath, undo);
    } catch (e) {
      throw withRollbackFailure(error, e);
    }
  }

  private async publishOnce(req: NodePublishInput, firstMount: boolean, receivedAt: number | undefined, progress: PublishProgress): Promise<void> {
    const ctx = req.volumeContext;
    const spcName = ctx[SPC_KEY] ?? '';
    if (spcName === '') {
      throw new SecretletError({ code: 'UNKNOWN', reason: 'SecretProviderClassNotSet', field: `volume_context.${SPC_KEY}`, message: 'secretProviderClass is not set' });
    }
    const namespace = ctx[ATTR_POD_NAMESPACE] ?? '';
    const podName = ctx[ATTR_POD_NAME] ?? '';
    progress.errorType = 'SecretProviderClassNotFound';
    const spc = await this.options.catalog.get(namespace, spcName);
    if (spc === undefined) {
      throw new SecretletError({
        code: 'UNKNOWN',
        reason: 'SecretProviderClassNotFound',
        field: `volume_context.${SPC_KEY}`,
        message: `failed to get secretproviderclass ${namespace}/${spcName}, error: secretproviderclasses.secrets-store.csi.x-k8s.io "${spcName}" not found`,
      });
    }
    progress.errorType = 'FailedToMount';
    const ref = `${namespace}/${spcName}`;
    // Upstream checks here only that a provider is set (step 13); a provider it has no plugin for
    // fails when the provider is called (step 19), after the readonly check (step 16).
    const problem = (spc.provider === '' ? providerProblem(ref, spc.provider) : undefined) ?? parametersProblem(ref, spc.parameters);
    if (problem) throw problem;
    // Volume context wins over SPC parameters on key clash, as upstream. Tokens: kubelet's in the
    // volume context first, then `secrets` (where kubelet puts them with the CSIDriver's
    // serviceAccountTokenInSecrets). Upstream reads `secrets` first, but that map also carries the
    // pod's own nodePublishSecretRef Secret: a token planted there must not replace kubelet's, since
    // secretlet serves cached credentials without showing each token to STS.
    const attributes: Record<string, string> = { ...spc.parameters, ...ctx };
    const tokens = ctx[ATTR_TOKENS] || req.secrets[ATTR_TOKENS] || '';
    if (tokens !== '') attributes[ATTR_TOKENS] = tokens;
    if (!req.readonly) throw invalidArgument('ReadonlyNotSet', 'Readonly is not true in request', 'readonly');
    const pod = `${namespace}/${podName}`;
    const mountFailed = (e: unknown) => wrapError(e, `failed to mount secrets store objects for pod ${pod}`);
    const notServed = providerProblem(ref, spc.provider);
    if (notServed) {
      // Upstream fails its provider lookup here (step 19), with no error type on the metric.
      progress.errorType = '';
      throw mountFailed(notServed);
    }

    // Validate everything before anything is mounted.
    progress.errorType = 'GRPCProviderError';
    const prepared = await prepareMount({ attributes: JSON.stringify(attributes), targetPath: req.targetPath, permission: '420' }, this.options).catch((e: unknown) => {
      throw mountFailed(e);
    });
    const noObjects = noObjectsProblem(prepared.plan.objects);
    if (noObjects) throw mountFailed(noObjects);
    const { freshness } = this.options;
    if (!firstMount && freshness !== undefined && receivedAt !== undefined) {
      const mountKey = mountKeyFor(prepared.parsed.pod.uid, req.volumeId);
      const current = await freshness.current({ door: 'csi', mountKey, targetPath: req.targetPath, plan: prepared.plan, identity: prepared.identity, receivedAt, secretObjects: spc.secretObjects });
      if (current !== undefined) return;
    }
    const fetched = await fetchMount(prepared, this.options, receivedAt).catch((e: unknown) => {
      throw mountFailed(e);
    });
    // On the first mount only: the tmpfs is the one this agent sizes now. A live volume (mounted with
    // another --tmpfs-size, or by the upstream driver without a limit) is left to its writes.
    if (firstMount) {
      progress.errorType = 'FileWriteError';
      try {
        checkTmpfsRoom(fetched.files, this.options.tmpfsSizeBytes);
      } catch (e) {
        throw mountFailed(e);
      }
    }

    // From here on each step commits something to the node; none starts once kubelet has given up.
    // A stop keeps the error type of the step that was running (mostly the fetch, as upstream's
    // provider call that inherits kubelet's deadline).
    const stopIfCallerGone = (skipped: string): void => {
      if (req.signal?.aborted !== true) return;
      progress.callerGone = true;
      throw callerGoneError(req.signal, pod, skipped);
    };
    if (firstMount) {
      stopIfCallerGone('mounting the tmpfs');
      progress.errorType = 'FailedToEnsureMountPoint';
      progress.createdDir = await this.options.targets.ensure(req.targetPath);
      progress.errorType = 'FailedToMount';
      await this.options.mounter.mount(req.targetPath, { sizeBytes: this.options.tmpfsSizeBytes });
      progress.mounted = true;
    }
    stopIfCallerGone('writing the files');
    progress.errorType = 'FileWriteError';
    const outcome = await this.options.writer.write(req.targetPath, fetched.files).catch((e: unknown) => {
      throw mountFailed(e);
    });
    if (outcome.changed || firstMount) {
      stopIfCallerGone('writing the pod status');
      progress.errorType = '';
      await this.options.podStatuses
        .upsert({
          name: podStatusName(podName, namespace, spcName),
          namespace,
          nodeName: this.options.nodeName,
          podName,
          podUid: prepared.parsed.pod.uid,
          secretProviderClassName: spcName,
          targetPath: req.targetPath,
          objects: statusObjects(fetched.versions),
        }, req.signal)
        .catch((e: unknown) => {
          // The write follows kubelet's signal (a throttled API server's waits included).
          stopIfCallerGone('finishing the pod status write');
          throw wrapError(e, `failed to create secret provider class pod status for pod ${pod}`);
        });
    }
    await this.options.listener?.published({ volumeId: req.volumeId, targetPath: req.targetPath, spc, mount: fetched, firstMount, changed: outcome.changed, ...(outcome.stamp === undefined ? {} : { stamp: outcome.stamp }) });
  }

  async unpublish(req: NodeUnpublishInput): Promise<void> {
    await this.options.targets.cleanup(req.targetPath);
    await this.options.listener?.unpublished({ volumeId: req.volumeId, targetPath: req.targetPath });
  }
}
