/**
 * What the AWS adapter needs from the outside world, as small role-named ports, so it never talks to
 * the Kubernetes API itself. The Kubernetes adapter implements both with cached lookups; tests use the
 * in-memory versions in `in-memory-directories.ts`.
 */

/** Service-account lookups needed by IRSA. */
export interface ServiceAccountDirectory {
  /** The `eks.amazonaws.com/role-arn` annotation of the service account, or undefined when absent/empty. */
  roleArnOf(namespace: string, name: string): Promise<string | undefined>;
}

/** The node this agent runs on. */
export interface NodeRegionSource {
  /**
   * The node's `topology.kubernetes.io/region` label, or undefined when absent/empty. `pod` is a pod
   * being mounted on this node: an agent not told its node's name learns it from that pod's
   * `spec.nodeName`, as ASCP does for every mount.
   */
  regionOfThisNode(pod: PodRef): Promise<string | undefined>;
}

/** A pod by name, as the mount request names it. */
export interface PodRef {
  namespace: string;
  name: string;
}
