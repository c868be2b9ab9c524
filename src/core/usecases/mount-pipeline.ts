/**
 * The one mount path both doors share: parse the driver's attributes, resolve the primary region,
 * validate every object (before any AWS call), fetch through the SecretSource, and render files.
 * Nothing here writes to disk; the caller decides how the payload lands (provider writer, kubelet
 * atomic writer, or returned to the driver).
 */
import { SecretletError } from '../errors.js';
import type { AwsIdentity, MountPlan, ObjectVersion, RenderedFile } from '../model.js';
import type { Clock } from '../ports/clock.js';
import type { MountWorker } from '../ports/mount-worker.js';
import type { RegionResolver } from '../ports/region-resolver.js';
import type { SecretSource } from '../ports/secret-source.js';
import { identityFor, parseMountRequest, planMount } from '../spc/mount-request.js';
import type { MountRequestInput, ParsedMountRequest } from '../spc/mount-request.js';
import { fetchMountValues } from '../mount/mount-job.js';
import { renderFiles } from '../render/render-files.js';

export interface MountPipelineDeps {
  regions: RegionResolver;
  source: SecretSource;
  /** Where parse/validate and rendering run (worker pool); inline on this thread when absent. */
  worker?: MountWorker;
  /**
   * The SecretSource's clock. When given, each mount tells the source when it arrived, so mounts
   * that queued behind others in a burst can share a read sent after they arrived.
   */
  clock?: Pick<Clock, 'now'>;
}

export interface PreparedMount {
  parsed: ParsedMountRequest;
  plan: MountPlan;
  identity: AwsIdentity;
}

export interface FetchedMount extends PreparedMount {
  files: RenderedFile[];
  versions: ObjectVersion[];
  /**
   * The values are at least as new as AWS was at this time (the call's arrival, on the source's
   * clock); undefined without a clock. Rotation's freshness window counts from here.
   */
  readAfter?: number;
}

/** Parse and validate a mount; the only I/O is the (cached) region lookup when no region is set. */
export async function prepareMount(input: MountRequestInput, deps: Pick<MountPipelineDeps, 'regions' | 'worker'>): Promise<PreparedMount> {
  if (deps.worker !== undefined) {
    // Region lookup stays here (node-global cache); only a request without `region` needs a second hop.
    const first = await deps.worker.prepare(input);
    if (first.kind === 'planned') return first.mount;
    const second = await deps.worker.prepare(input, await deps.regions.primaryRegion(first.pod));
    if (second.kind === 'planned') return second.mount;
    throw new SecretletError({ code: 'INTERNAL', reason: 'WorkerProtocol', message: 'mount worker asked again for the primary region it was given' });
  }
  const parsed = parseMountRequest(input);
  const primary = parsed.regionParam !== '' ? parsed.regionParam : await deps.regions.primaryRegion(parsed.pod);
  const plan = planMount(parsed, primary);
  return { parsed, plan, identity: identityFor(parsed) };
}

/**
 * Fetch on this thread (node-global credential cache and coalescing fetcher), then render in the
 * worker when there is one; the payload is the same either way.
 */
export async function fetchMount(prepared: PreparedMount, deps: Pick<MountPipelineDeps, 'source' | 'worker'>, receivedAt?: number): Promise<FetchedMount> {
  const { values } = await fetchMountValues(prepared.plan, { source: deps.source, identity: prepared.identity, ...(receivedAt === undefined ? {} : { notBefore: receivedAt }) });
  const { files, versions } = deps.worker !== undefined ? await deps.worker.render(prepared.plan, values) : renderFiles(prepared.plan, values);
  return { ...prepared, files, versions, ...(receivedAt === undefined ? {} : { readAfter: receivedAt }) };
}
