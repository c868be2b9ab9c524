import type { MountDoor } from '../events/events.js';
import type { AwsIdentity, MountPlan, ObjectVersion } from '../model.js';
import type { SecretObjectSpec } from './spc-catalog.js';

/** A republish (or repeated provider Mount) of a mount the agent already serves. */
export interface RepublishRequest {
  door: MountDoor;
  mountKey: string;
  targetPath: string;
  /** What the request asks for, validated: compared with what the mount was last verified with. */
  plan: MountPlan;
  /** The request's identity; its token is the freshest one kubelet or the driver handed over. */
  identity: AwsIdentity;
  /** When the call arrived, on the SecretSource's clock. */
  receivedAt: number;
  /**
   * The SecretProviderClass's `secretObjects` as the request found it (kubelet door). A change from
   * what the mount was recorded with is not answered from memory: the full mount records the new
   * spec, which is how an edited `secretObjects` reaches the synced Secret. Absent: not compared.
   */
  secretObjects?: readonly SecretObjectSpec[];
}

/**
 * Knows which live mounts the agent itself keeps current (its rotation reconciler re-reads every
 * live mount once per rotation interval). Kubelet republishes every volume about every 75 s
 * (requiresRepublish); re-reading AWS for each would cost one read per pod per minute, where the
 * reconciler already costs one batched read per identity per interval. Upstream's driver skips such
 * republishes too (`--rotation-poll-interval`, driver.md §5.1).
 */
export interface MountFreshness {
  /**
   * The versions the mount's files show when they were verified against AWS within the rotation
   * interval before `receivedAt`, for the same plan and identity, and the target directory is
   * exactly as the agent left it; the caller then answers without fetching or writing. Undefined
   * means: run the full mount. On a hit the request's token is handed over to rotation.
   */
  current(request: RepublishRequest): Promise<ObjectVersion[] | undefined>;
}
