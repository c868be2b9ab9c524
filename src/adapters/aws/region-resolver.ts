/**
 * The primary region when a SecretProviderClass names none (aws-provider.md §9): the configured
 * default (the composition root passes AWS_REGION; this module never reads the environment), else the
 * node's `topology.kubernetes.io/region` label. The label is looked up once per agent, not per mount
 * (ASCP does two Kubernetes GETs per mount). A failed lookup is not cached, so it is retried next time.
 */
import { SecretletError } from '../../core/errors.js';
import type { PodInfo } from '../../core/model.js';
import type { RegionResolver } from '../../core/ports/region-resolver.js';
import type { NodeRegionSource } from './ports.js';

export interface DefaultRegionResolverOptions {
  /** AWS_REGION of the agent, if set. */
  defaultRegion?: string;
  node: NodeRegionSource;
}

/**
 * ASCP wraps every failure of its node lookup the same way (aws-provider.md §9 step 3), so users
 * see `failed to retrieve region from node. error Region not found` or `… error nodes "n1" not
 * found`. The code is FAILED_PRECONDITION (the pod, its node or the label is missing), except when
 * the API server could not be reached (UNAVAILABLE: retrying will do).
 */
function regionNotFound(detail: string, cause?: unknown): SecretletError {
  const unavailable = cause instanceof SecretletError && cause.code === 'UNAVAILABLE';
  return new SecretletError({
    code: unavailable ? 'UNAVAILABLE' : 'FAILED_PRECONDITION',
    reason: 'RegionNotFound',
    message: `failed to retrieve region from node. error ${detail}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

export class DefaultRegionResolver implements RegionResolver {
  readonly #defaultRegion: string | undefined;
  readonly #node: NodeRegionSource;
  #nodeRegion: Promise<string | undefined> | undefined;

  constructor(options: DefaultRegionResolverOptions) {
    this.#defaultRegion = options.defaultRegion === '' ? undefined : options.defaultRegion;
    this.#node = options.node;
  }

  async primaryRegion(pod: PodInfo): Promise<string> {
    if (this.#defaultRegion !== undefined) return this.#defaultRegion;
    if (!this.#nodeRegion) {
      const lookup = this.#node.regionOfThisNode(pod);
      this.#nodeRegion = lookup;
      // Only a found region is kept; errors and "no label" are asked again on the next mount.
      lookup.then(
        (r) => {
          if (r === undefined || r === '') this.#nodeRegion = undefined;
        },
        () => {
          this.#nodeRegion = undefined;
        },
      );
    }
    let region: string | undefined;
    try {
      region = await this.#nodeRegion;
    } catch (cause) {
      throw regionNotFound(cause instanceof Error ? cause.message : String(cause), cause);
    }
    if (region === undefined || region === '') throw regionNotFound('Region not found');
    return region;
  }
}
