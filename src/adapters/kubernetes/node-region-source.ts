/**
 * The node's region from its `topology.kubernetes.io/region` label. The region resolver keeps a
 * found region for the agent's life (a node never changes region) and shares a lookup in flight,
 * instead of a pod GET plus a node GET on every mount as ASCP does.
 *
 * An agent told its node's name (`--node-name`, the downward API's spec.nodeName) reads that node. One
 * that was not (a provider-mode agent run without NODE_NAME) learns it the way ASCP finds the node:
 * from the `spec.nodeName` of the first pod it mounts. The agent serves only pods of its own node, so
 * the name learnt once holds for every later mount.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { SecretletError } from '../../core/errors.js';
import { kubeError } from './kube-errors.js';

export const REGION_LABEL = 'topology.kubernetes.io/region';

export class NodeLabelRegionSource {
  private readonly api: CoreV1Api;
  /** '' until told or learnt from a pod. */
  private nodeName: string;

  constructor(kc: KubeConfig, nodeName: string) {
    this.api = kc.makeApiClient(CoreV1Api);
    this.nodeName = nodeName;
  }

  /**
   * Reads the node every time it is asked. The resolver asks only until a region is found, so a
   * node without the label yet (the cloud controller labels it after agents that tolerate
   * everything have started) is read again on the next mount, and labelling it needs no restart.
   */
  async regionOfThisNode(pod: { namespace: string; name: string }): Promise<string | undefined> {
    if (this.nodeName === '') this.nodeName = await this.nodeOf(pod);
    const name = this.nodeName;
    // The API server's own message (`nodes "n1" not found`), as ASCP returns it; the region
    // resolver wraps it the way ASCP does.
    const node = await this.api.readNode({ name }).catch((e: unknown) => {
      throw kubeError(undefined, e);
    });
    return node.metadata?.labels?.[REGION_LABEL] || undefined;
  }

  private async nodeOf(pod: { namespace: string; name: string }): Promise<string> {
    const found = await this.api.readNamespacedPod({ namespace: pod.namespace, name: pod.name }).catch((e: unknown) => {
      throw kubeError(undefined, e);
    });
    const nodeName = found.spec?.nodeName ?? '';
    if (nodeName === '') {
      throw new SecretletError({
        code: 'FAILED_PRECONDITION',
        reason: 'RegionNotFound',
        message: `pod ${pod.namespace}/${pod.name} has no spec.nodeName, so its node's region label cannot be read`,
        field: 'csi.storage.k8s.io/pod.name',
      });
    }
    return nodeName;
  }
}
