import type { PodInfo } from '../model.js';

/**
 * Finds a mount's primary region when the SecretProviderClass does not name one: the agent's
 * configured default (AWS_REGION), else the node's `topology.kubernetes.io/region` label, looked up
 * once per node rather than once per mount. Throws a SecretletError (FAILED_PRECONDITION,
 * reason `RegionNotFound`) when there is none.
 */
export interface RegionResolver {
  primaryRegion(pod: PodInfo): Promise<string>;
}
