/**
 * The node's region from its `topology.kubernetes.io/region` label, read once per agent (a node never
 * changes region) instead of a pod GET plus a node GET on every mount as ASCP does.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeError } from './kube-errors.js';

export const REGION_LABEL = 'topology.kubernetes.io/region';

export class NodeLabelRegionSource {
  private readonly api: CoreV1Api;
  private readonly nodeName: string;
  private cached: Promise<string | undefined> | undefined;

  constructor(kc: KubeConfig, nodeName: string) {
    this.api = kc.makeApiClient(CoreV1Api);
    this.nodeName = nodeName;
  }

  regionOfThisNode(): Promise<string | undefined> {
    if (this.cached === undefined) {
      this.cached = this.api
        .readNode({ name: this.nodeName })
        .then((node) => node.metadata?.labels?.[REGION_LABEL] || undefined)
        .catch((e: unknown) => {
          this.cached = undefined;
          throw kubeError(`failed to retrieve region from node ${this.nodeName}`, e);
        });
    }
    return this.cached;
  }
}
