/**
 * What rotation needs to re-run a live mount that the event log cannot hold: the validated plan,
 * the identity WITH the pod's token, the writer that put the files there and the values they show.
 * Memory only, on purpose: tokens and values must never reach the log or the disk outside the
 * pod's tmpfs.
 *
 * Consequence after an agent restart: the registry (replayed from the log) knows every mount, but
 * this map is empty, so rotation of a mount waits until kubelet republishes it (requiresRepublish)
 * or the upstream driver calls Mount again, which hands over a fresh token and refills the entry.
 * Secret sync does not need this map (it reads the mounted files).
 */
import type { AwsIdentity, FetchedObject, MountPlan, ObjectVersion } from '../core/model.js';
import type { MountDoor } from '../core/events/events.js';
import type { PayloadWriter } from '../core/ports/payload-writer.js';

export interface LiveMount {
  mountKey: string;
  door: MountDoor;
  plan: MountPlan;
  identity: AwsIdentity;
  targetPath: string;
  writer: PayloadWriter;
  values: Map<number, FetchedObject>;
  /** What the files show, per object file (as the doors answer and SecretProviderClassPodStatus records). */
  versions: ObjectVersion[];
  /**
   * When the values were last confirmed against AWS (a mount's read or a rotation cycle that found
   * them unchanged or rewrote them), on the source's clock; undefined when never (restored mounts).
   */
  verifiedAt?: number;
  /** The target directory's stamp (target-stamp.ts) right after the agent last wrote or checked it. */
  targetStamp?: string;
  /** Increases with every hand-over; rotation fetches with the freshest token of a service account. */
  tokenSeenAt: number;
}

export class LiveMounts {
  private readonly byKey = new Map<string, LiveMount>();
  private counter = 0;

  /** Stores (or replaces) a mount's runtime and stamps it as the freshest token hand-over. */
  set(mount: Omit<LiveMount, 'tokenSeenAt'>): void {
    this.counter += 1;
    this.byKey.set(mount.mountKey, { ...mount, tokenSeenAt: this.counter });
  }

  /** Replaces the values after rotation rewrote a mount (the token stays what it was). */
  updateValues(mountKey: string, values: Map<number, FetchedObject>, versions: ObjectVersion[]): void {
    const current = this.byKey.get(mountKey);
    if (current !== undefined) this.byKey.set(mountKey, { ...current, values, versions });
  }

  /** Records that the mount's values were confirmed current at `at` (and, when given, how its target looks now). */
  verified(mountKey: string, at: number, targetStamp?: string): void {
    const current = this.byKey.get(mountKey);
    if (current === undefined) return;
    current.verifiedAt = Math.max(at, current.verifiedAt ?? at);
    if (targetStamp !== undefined) current.targetStamp = targetStamp;
  }

  /** A republish answered without a fetch still brings the pod's current token: rotation uses it. */
  handOver(mountKey: string, identity: AwsIdentity): void {
    const current = this.byKey.get(mountKey);
    if (current === undefined) return;
    this.counter += 1;
    this.byKey.set(mountKey, { ...current, identity, tokenSeenAt: this.counter });
  }

  get(mountKey: string): LiveMount | undefined {
    return this.byKey.get(mountKey);
  }

  delete(mountKey: string): void {
    this.byKey.delete(mountKey);
  }

  list(): LiveMount[] {
    return [...this.byKey.values()];
  }

  get size(): number {
    return this.byKey.size;
  }
}
