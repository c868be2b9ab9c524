/**
 * The MountRegistry projection: every live mount on this node, by mount key, with what rotation and
 * unmount need (identity, regions, target path, object versions and hashes, the SPC's secretObjects).
 * Built only from log records, so after a restart the agent knows its mounts without asking anyone.
 */
import { PersistentMap } from './persistent-map.js';
import type { StatusCode } from '../errors.js';
import type { LoggedEvent, LoggedObject, MountPublished } from './events.js';

export interface MountFailure {
  seq: number;
  code: StatusCode;
  reason: string;
  message: string;
}

/** A live mount: what its (last) MountPublished said, plus where the log stands for it. */
export interface MountEntry extends MountPublished {
  /** Seq of the MountPublished that created (or last re-created) this entry. */
  publishedSeq: number;
  /** Seq of the last record that changed `objects` (a publish, or an update with other versions/hashes). */
  changedSeq: number;
  /** The last failed remount (rotation), cleared by the next successful publish or update. */
  lastFailure?: MountFailure;
}

export type MountRegistry = ReadonlyMap<string, MountEntry>;

/** True when two object lists hold the same files with the same versions and content hashes. */
export function sameObjects(a: readonly LoggedObject[], b: readonly LoggedObject[]): boolean {
  if (a.length !== b.length) return false;
  const byId = new Map(a.map((o) => [o.id, o]));
  return b.every((o) => {
    const old = byId.get(o.id);
    return old !== undefined && old.version === o.version && old.hash === o.hash && old.pinned === o.pinned;
  });
}

/**
 * Applies one record to the registry and returns the new registry (the input is not modified).
 * Records about unknown mounts (an update or failure after the unpublish) change nothing: the log
 * is the truth and a late record must not resurrect a mount.
 */
export function applyToRegistry(registry: MountRegistry, record: LoggedEvent): MountRegistry {
  switch (record.type) {
    case 'MountPublished': {
      const p = record.payload;
      const previous = registry.get(p.mountKey);
      const unchanged = previous !== undefined && sameObjects(previous.objects, p.objects);
      const entry: MountEntry = {
        mountKey: p.mountKey,
        door: p.door,
        pod: { ...p.pod },
        serviceAccount: p.serviceAccount,
        secretProviderClass: p.secretProviderClass,
        authMode: p.authMode,
        regions: [...p.regions],
        targetPath: p.targetPath,
        objects: p.objects.map((o) => ({ ...o })),
        secretObjects: p.secretObjects,
        publishedSeq: record.seq,
        changedSeq: unchanged ? previous.changedSeq : record.seq,
      };
      return withEntry(registry, entry);
    }
    case 'MountUpdated': {
      const p = record.payload;
      const previous = registry.get(p.mountKey);
      if (previous === undefined) return registry;
      const { lastFailure: _cleared, ...rest } = previous;
      const changed = !sameObjects(previous.objects, p.objects);
      return withEntry(registry, {
        ...rest,
        objects: p.objects.map((o) => ({ ...o })),
        changedSeq: changed ? record.seq : previous.changedSeq,
      });
    }
    case 'MountFailed': {
      const p = record.payload;
      const previous = registry.get(p.mountKey);
      if (previous === undefined) return registry;
      return withEntry(registry, {
        ...previous,
        lastFailure: { seq: record.seq, code: p.code, reason: p.reason, message: p.message },
      });
    }
    case 'MountUnpublished': {
      if (!registry.has(record.payload.mountKey)) return registry;
      return PersistentMap.from(registry).without(record.payload.mountKey);
    }
    case 'SecretSynced':
    case 'SecretSyncFailed':
    case 'SecretReleased':
      return registry;
  }
}

/** One entry replaced, sharing the rest (persistent-map.ts says why not a Map copy). */
function withEntry(registry: MountRegistry, entry: MountEntry): MountRegistry {
  return PersistentMap.from(registry).with(entry.mountKey, entry);
}
