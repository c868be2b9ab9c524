/**
 * What an operator sees when a kubelet-door publish fails: a `FailedMount` Warning Event on the pod
 * (rate-limited by the recorder, so a pod stuck in kubelet's retry loop does not flood the API
 * server), the upstream `node_publish_error_total` series, and one log line. It listens to the use
 * case rather than wrapping the door because a failed *republish* is masked from kubelet (the old
 * files stay) and only the use case knows it happened.
 *
 * `NodeVolumeService` takes one listener; `combineNodeVolumeListeners` lets the event log, Secret
 * sync and this listener share it without knowing about each other.
 */
import type { Logger } from '../adapters/logging/logger.js';
import type { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import type { SecretletError } from '../core/errors.js';
import { mountKeyFromTargetPath } from '../core/events/mount-events.js';
import type { NodeVolumeListener, PublishFailure, PublishReport } from '../core/usecases/node-volume.js';

/** The slice of KubeEventRecorder this listener needs (a fake in unit tests). */
export interface PodEventSink {
  warning(target: { kind: 'Pod'; namespace: string; name: string; uid?: string }, reason: string, message: string): Promise<boolean>;
}

export interface OpsNodeVolumeListenerOptions {
  events: PodEventSink | undefined;
  metrics: AgentMetrics;
  logger: Logger;
  /** The `provider` label of node_publish_error_total. @default 'aws' */
  provider?: string;
}


const POD_NAME = 'csi.storage.k8s.io/pod.name';
const POD_NAMESPACE = 'csi.storage.k8s.io/pod.namespace';
const POD_UID = 'csi.storage.k8s.io/pod.uid';
const SPC = 'secretProviderClass';

/** grpc-go's name of a code (`Unknown`, `NotFound`, ...), as kubelet prints it. */
function goCodeName(code: string): string {
  return code
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/**
 * The text kubelet gives its own FailedMount event (`MountVolume.SetUp failed for volume "<pod volume
 * name>" : rpc error: code = NotFound desc = …`), so what users grep for matches ours too. The pod
 * volume's name comes from the kubelet target path (`…/kubernetes.io~csi/<name>/mount`).
 */
export function failedMountMessage(info: { volumeId: string; targetPath?: string; error: SecretletError; firstMount: boolean }): string {
  const prefix = info.firstMount ? 'MountVolume.SetUp failed' : 'MountVolume.SetUp (republish) failed, the previous files are kept,';
  const volume = mountKeyFromTargetPath(info.targetPath ?? '')?.split('/')[1] ?? info.volumeId;
  return `${prefix} for volume "${volume}" : rpc error: code = ${goCodeName(info.error.code)} desc = ${info.error.message}`;
}

export class OpsNodeVolumeListener implements NodeVolumeListener {
  private readonly options: OpsNodeVolumeListenerOptions;

  constructor(options: OpsNodeVolumeListenerOptions) {
    this.options = options;
  }

  published(_report: PublishReport): Promise<void> {
    return Promise.resolve();
  }

  async publishFailed(info: PublishFailure): Promise<void> {
    const { events, metrics, logger } = this.options;
    const ctx = info.volumeContext;
    const pod = ctx[POD_NAME] ?? '';
    const namespace = ctx[POD_NAMESPACE] ?? '';
    metrics.publishError(this.options.provider ?? 'aws', info.errorType, info.error.reason);
    if (!info.firstMount) {
      // kubelet sees success for a masked republish; this line is the only trace in the logs.
      logger.warn(
        { pod, namespace, spc: ctx[SPC], volumeId: info.volumeId, code: info.error.code, reason: info.error.reason, field: info.error.field, error: info.error.message },
        'republish failed; previous files kept',
      );
    }
    if (events === undefined || pod === '' || namespace === '') return;
    const uid = ctx[POD_UID];
    // Best effort: the reply to kubelet must not wait on the API server (the recorder never throws).
    void events.warning({ kind: 'Pod', namespace, name: pod, ...(uid ? { uid } : {}) }, 'FailedMount', failedMountMessage(info));
  }

  unpublished(_info: { volumeId: string; targetPath: string }): Promise<void> {
    return Promise.resolve();
  }
}

/** One listener that forwards every call to each of `listeners` in order; one failing does not stop the others. */
export function combineNodeVolumeListeners(...listeners: Array<NodeVolumeListener | undefined>): NodeVolumeListener {
  const all = listeners.filter((l): l is NodeVolumeListener => l !== undefined);
  const each = async (call: (l: NodeVolumeListener) => Promise<void>): Promise<void> => {
    const results = await Promise.allSettled(all.map(call));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  };
  return {
    published: (report) => each((l) => l.published(report)),
    publishFailed: (info) => each((l) => l.publishFailed(info)),
    unpublished: (info) => each((l) => l.unpublished(info)),
  };
}
