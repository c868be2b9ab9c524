import type { AwsIdentity, FetchedObject, MountPlan, PodInfo } from '../model.js';
import type { RenderedPayload } from '../render/render-files.js';
import type { MountRequestInput, ParsedMountRequest } from '../spc/mount-request.js';

/** A mount parsed, validated and planned: everything needed before the first AWS call. */
export interface PlannedMount {
  parsed: ParsedMountRequest;
  plan: MountPlan;
  identity: AwsIdentity;
}

/**
 * `needsRegion`: the request names no `region`, so the caller must resolve the node's primary
 * region (cached, main-thread state) and ask again with it. Every check that comes before the
 * region in ASCP's order has already passed.
 */
export type PrepareOutcome = { kind: 'planned'; mount: PlannedMount } | { kind: 'needsRegion'; pod: PodInfo };

/**
 * Where the CPU-bound, per-mount work runs: parsing and validating the request and its objects,
 * and rendering fetched values into files (JMESPath, modes). The fetch itself is not here: it stays
 * on the main thread, where the node-global credential cache and the coalescing fetcher live, so
 * two pods of one identity never cause two fetches of one object in one window.
 *
 * Implemented by a worker-thread pool (piscina) and by an inline runner (pool size 0, tests).
 * Failures are SecretletErrors with their code, reason and field kept across the thread boundary.
 */
export interface MountWorker {
  /** Brings the threads up (module loading takes ~1 s under tsx) so the first mount does not wait. */
  start(): Promise<void>;
  prepare(input: MountRequestInput, primaryRegion?: string): Promise<PrepareOutcome>;
  render(plan: MountPlan, values: ReadonlyMap<number, FetchedObject>): Promise<RenderedPayload>;
  close(): Promise<void>;
}
