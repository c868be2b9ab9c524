/**
 * Listens to both doors and turns what they did into event-log records (MountPublished,
 * MountUpdated, MountFailed, MountUnpublished) before the kubelet or driver call is acknowledged,
 * and keeps the memory-only runtime rotation needs (LiveMounts: plan, identity with the freshest
 * token, writer, values).
 *
 * A republish that changed nothing appends nothing (kubelet republishes every pod every couple of
 * minutes with requiresRepublish; logging each would grow the log for no information); it still
 * refreshes the token in memory, which is how rotation resumes for mounts replayed after a restart.
 */
import type { PayloadWriter } from '../core/ports/payload-writer.js';
import type { SecretletError } from '../core/errors.js';
import { mountKeyFor, mountKeyFromTargetPath, mountPublishedEvent, mountUpdatedEvent } from '../core/events/mount-events.js';
import type { MountDoor, NewEvent } from '../core/events/events.js';
import { sameObjects } from '../core/events/mount-registry.js';
import type { MountEntry } from '../core/events/mount-registry.js';
import { loggedObjects } from '../core/events/mount-events.js';
import { valuesFromPayload } from '../core/rotation/rotation-plan.js';
import type { SecretObjectSpec } from '../core/ports/spc-catalog.js';
import { ATTR_POD_NAME, ATTR_POD_NAMESPACE, ATTR_POD_UID } from '../core/spc/attributes.js';
import type { FetchedMount } from '../core/usecases/mount-pipeline.js';
import type { NodeVolumeListener, PublishReport } from '../core/usecases/node-volume.js';
import type { MountListener } from '../core/usecases/provider-mount.js';
import type { EventJournal } from './event-journal.js';
import type { LiveMounts } from './rotation-live-mounts.js';

export interface MountRecorderOptions {
  /** Set once the log is open (doors only open after that). */
  journal: () => EventJournal | undefined;
  live: LiveMounts;
  /** The writer the CSI door used (rotation rewrites with the same one). */
  kubeletWriter?: PayloadWriter;
  /** The provider door's writer; undefined in driver-writes mode (the driver rotates by calling Mount again). */
  providerWriter?: PayloadWriter;
  /** The target directory's stamp after a write (target-stamp.ts); without it no republish is answered from memory. */
  targetStamp?: (path: string) => string | undefined;
}

export class MountRecorder implements NodeVolumeListener, MountListener {
  private readonly options: MountRecorderOptions;

  constructor(options: MountRecorderOptions) {
    this.options = options;
  }

  // --- CSI door -------------------------------------------------------------------------------

  async published(report: PublishReport): Promise<void> {
    const mountKey = mountKeyFor(report.mount.parsed.pod.uid, report.volumeId);
    await this.recordMount({
      mountKey,
      door: 'csi',
      fetched: report.mount,
      targetPath: report.targetPath,
      spcName: report.spc.name,
      secretObjects: report.spc.secretObjects,
      writer: this.options.kubeletWriter,
      // The door writes the pod status with the files (node-volume.ts); otherwise it is still owed.
      doorWroteStatus: report.changed || report.firstMount,
      ...(report.stamp === undefined ? {} : { stamp: report.stamp }),
    });
  }

  async publishFailed(info: { volumeId: string; targetPath: string; volumeContext: Record<string, string>; error: SecretletError; firstMount: boolean }): Promise<void> {
    const journal = this.options.journal();
    const uid = info.volumeContext[ATTR_POD_UID] ?? '';
    const mountKey = mountKeyFor(uid, info.volumeId);
    const entry = journal?.state.mounts.get(mountKey);
    if (journal === undefined || entry === undefined) return;
    // Only a failed republish of a live mount is a fact worth remembering (its old files stay), and
    // only once per reason, as rotation does: kubelet republishes every ~75 s, and the log must not
    // grow by a record per volume per minute while AWS refuses (the metric and the log line count each).
    if (entry.lastFailure?.reason === info.error.reason) return;
    await journal.record([
      {
        type: 'MountFailed',
        payload: {
          mountKey,
          pod: { namespace: info.volumeContext[ATTR_POD_NAMESPACE] ?? '', name: info.volumeContext[ATTR_POD_NAME] ?? '', uid },
          code: info.error.code,
          reason: info.error.reason,
          message: info.error.message,
        },
      },
    ]);
  }

  async unpublished(info: { volumeId: string; targetPath: string }): Promise<void> {
    const journal = this.options.journal();
    if (journal === undefined) return;
    const entry = findByTarget(journal.state.mounts.values(), info.targetPath, 'csi');
    const podUid = mountKeyFromTargetPath(info.targetPath)?.split('/')[0];
    const mountKey = entry?.mountKey ?? (podUid === undefined ? undefined : mountKeyFor(podUid, info.volumeId));
    if (mountKey === undefined) return;
    this.options.live.delete(mountKey);
    if (!journal.state.mounts.has(mountKey)) return;
    await journal.record([{ type: 'MountUnpublished', payload: { mountKey } }]);
  }

  // --- provider door --------------------------------------------------------------------------

  async mounted(mount: FetchedMount, outcome: { changed: boolean; targetPath: string; stamp?: string }): Promise<void> {
    const { targetPath } = outcome;
    // The provider door never sees a volume id: the kubelet target path names pod and volume. A driver
    // with another layout still gets a unique, stable key: the pod UID and the target path itself.
    const mountKey = mountKeyFromTargetPath(targetPath) ?? mountKeyFor(mount.plan.pod.uid, targetPath);
    await this.recordMount({
      mountKey,
      door: 'provider',
      fetched: mount,
      targetPath,
      spcName: '',
      secretObjects: [],
      writer: this.options.providerWriter,
      doorWroteStatus: true,
      ...(outcome.stamp === undefined ? {} : { stamp: outcome.stamp }),
    });
  }

  // --- shared ---------------------------------------------------------------------------------

  private async recordMount(input: {
    mountKey: string;
    door: MountDoor;
    fetched: FetchedMount;
    targetPath: string;
    spcName: string;
    secretObjects: SecretObjectSpec[];
    writer: PayloadWriter | undefined;
    /** Whether the door already wrote the pod status for these versions (the provider door has none). */
    doorWroteStatus: boolean;
    /**
     * The target's stamp the door's write left, taken under the target's lock. Read here instead,
     * after the journal append, it could be a concurrent write's (another Mount of the same target),
     * and a later Mount would be answered "unchanged" over files this one never wrote.
     */
    stamp?: string;
  }): Promise<void> {
    const journal = this.options.journal();
    if (journal === undefined) return;
    const { fetched } = input;
    const previous = journal.state.mounts.get(input.mountKey);
    const event = this.eventFor(input, previous, journal);
    if (event !== undefined) await journal.record([event]);
    if (input.writer !== undefined) {
      this.options.live.set({
        mountKey: input.mountKey,
        door: input.door,
        plan: fetched.plan,
        identity: fetched.identity,
        targetPath: input.targetPath,
        writer: input.writer,
        values: valuesFromPayload(fetched.plan, fetched.files, fetched.versions),
        versions: fetched.versions,
        ...(fetched.readAfter === undefined ? {} : { verifiedAt: fetched.readAfter }),
        ...(input.stamp === undefined ? this.stampOf(input.targetPath) : { targetStamp: input.stamp }),
      });
    }
  }

  private stampOf(targetPath: string): { targetStamp?: string } {
    const stamp = this.options.targetStamp?.(targetPath);
    return stamp === undefined ? {} : { targetStamp: stamp };
  }

  private eventFor(
    input: { mountKey: string; door: MountDoor; fetched: FetchedMount; targetPath: string; spcName: string; secretObjects: SecretObjectSpec[]; doorWroteStatus: boolean },
    previous: MountEntry | undefined,
    journal: EventJournal,
  ): NewEvent | undefined {
    const { fetched } = input;
    const objects = loggedObjects(fetched.plan, fetched.versions, fetched.files, journal.hasher);
    const sameShape =
      previous !== undefined &&
      previous.door === input.door &&
      previous.targetPath === input.targetPath &&
      previous.serviceAccount === fetched.plan.pod.serviceAccount &&
      JSON.stringify(previous.regions) === JSON.stringify(fetched.plan.regions) &&
      JSON.stringify(previous.secretObjects) === JSON.stringify(input.secretObjects) &&
      previous.objects.map((o) => o.id).join('\n') === objects.map((o) => o.id).join('\n');
    if (sameShape && sameObjects(previous.objects, objects)) return undefined;
    if (sameShape) {
      return mountUpdatedEvent({ mountKey: input.mountKey, plan: fetched.plan, versions: fetched.versions, files: fetched.files, cause: input.doorWroteStatus ? 'republish' : 'catch-up', hasher: journal.hasher });
    }
    return mountPublishedEvent({
      mountKey: input.mountKey,
      door: input.door,
      plan: fetched.plan,
      secretProviderClass: input.spcName,
      targetPath: input.targetPath,
      versions: fetched.versions,
      files: fetched.files,
      secretObjects: input.secretObjects,
      hasher: journal.hasher,
    });
  }
}

function findByTarget(entries: Iterable<MountEntry>, targetPath: string, door: MountDoor): MountEntry | undefined {
  for (const e of entries) if (e.door === door && e.targetPath === targetPath) return e;
  return undefined;
}
