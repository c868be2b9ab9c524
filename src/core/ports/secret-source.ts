import type { SecretletError } from '../errors.js';
import type { AwsIdentity, FetchedObject, ObjectRequest } from '../model.js';
import type { Result } from '../result.js';

/**
 * Where secret values come from. The AWS adapter implements it with batching, coalescing,
 * credential caching and rate budgets; tests implement it with an in-memory fake.
 *
 * `fetch` returns one Result per request, in request order. A per-object failure (not found,
 * access denied for that secret) is an `ok: false` entry; a failure of the whole call (credentials,
 * throttling after retries, network) may be thrown or reported for every entry.
 * Error codes: INVALID_ARGUMENT / NOT_FOUND / PERMISSION_DENIED / UNAUTHENTICATED are client faults,
 * fatal except an access denial (PERMISSION_DENIED with reason AccessDenied), for which the failover
 * region is tried as ASCP does; UNAVAILABLE / DEADLINE_EXCEEDED / INTERNAL / RESOURCE_EXHAUSTED are
 * server faults (the failover region is tried). mount-job.ts `fallsOver` decides.
 */
export interface FetchOptions {
  /**
   * Never answer from a value cache (rotation must see what AWS holds now); joining a request that is
   * already in flight is still allowed.
   */
  fresh?: boolean;
  /**
   * When the caller's request arrived (the source's clock, ms). A value read by an AWS call that was
   * sent after this instant answers it, even when that call was made for another mount: the value is
   * then at least as new as AWS held when the request arrived, which is all a fresh fetch promises.
   * This is what lets a burst of mounts that queued behind each other share one batch per identity
   * without a TTL cache. Unset: only a call still in flight can be shared.
   */
  notBefore?: number;
}

export interface SecretSource {
  fetch(
    identity: AwsIdentity,
    region: string,
    requests: readonly ObjectRequest[],
    options?: FetchOptions,
  ): Promise<Array<Result<FetchedObject, SecretletError>>>;
}
