/**
 * The events of the node's append-only log: every fact the agent must remember across a restart
 * (which mounts are live, what they hold, which synced Secrets are up to date). On start the agent
 * replays them into projections (projections.ts); rotation, unmount and Secret sync read those.
 *
 * Plain, JSON-safe data only. Nothing here may ever hold a secret value, a token or the `secrets`
 * JSON: objects are identified by name, version and a keyed hash (see `LoggedObject.hash`).
 */
import type { StatusCode } from '../errors.js';
import type { AuthMode, ObjectType } from '../model.js';
import type { SecretObjectSpec } from '../ports/spc-catalog.js';

/** Which door a mount came through: our own CSI node server, or the provider socket of the upstream driver. */
export type MountDoor = 'csi' | 'provider';

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

/** One mounted object as the log remembers it. */
export interface LoggedObject {
  /** The file name (the ObjectVersion id; `objectAlias` or the translated object name). */
  id: string;
  objectName: string;
  objectType: ObjectType;
  version: string;
  /** True when the SPC names a version, so rotation must not move it (a label moves; it is not a pin). */
  pinned: boolean;
  /**
   * HMAC-SHA256 of the file's bytes with a per-node key, hex, first 32 chars. It lets rotation and
   * Secret sync tell "content changed" without keeping values. It is keyed because a plain hash of
   * a low-entropy secret (a 6-digit PIN, a short password) can be brute-forced offline by anyone
   * who can read the log; without the node key the hash reveals nothing.
   */
  hash: string;
  /**
   * The files of the object's jmesPath entries (empty when it has none). They show the object's
   * version, so the mount's ObjectVersions (and SecretProviderClassPodStatus `status.objects`) list
   * them too. Absent in records written before this field existed.
   */
  jmesFiles?: string[];
}

export interface MountPublished {
  /** `<podUid>/<volumeId>`. */
  mountKey: string;
  door: MountDoor;
  pod: PodRef;
  serviceAccount: string;
  secretProviderClass: string;
  authMode: AuthMode;
  /** Primary first; a second entry is the failover region. */
  regions: string[];
  targetPath: string;
  objects: LoggedObject[];
  /** The SPC's `secretObjects` at mount time (what Secret sync must produce from this mount). */
  secretObjects: SecretObjectSpec[];
}

/**
 * - `rotation`: the agent's rotation cycle rewrote the files;
 * - `republish`: a door publish rewrote them (on the kubelet door it also wrote the pod status);
 * - `catch-up`: a kubelet-door republish found the files already showing versions the log lacked (a
 *   crash between a write and its record, or a failed status write): the door wrote neither files
 *   nor status, so the pod status still has to follow.
 */
export type MountUpdateCause = 'rotation' | 'republish' | 'catch-up';

export interface MountUpdated {
  mountKey: string;
  objects: LoggedObject[];
  cause: MountUpdateCause;
}

export interface MountFailed {
  mountKey: string;
  pod: PodRef;
  code: StatusCode;
  reason: string;
  /** A SecretletError message: already free of values and tokens. */
  message: string;
}

export interface MountUnpublished {
  mountKey: string;
}

export interface SecretSynced {
  namespace: string;
  secretName: string;
  /** The live mounts whose pods own the Secret after this sync. */
  mountKeys: string[];
  /** Keyed hash (same key as object hashes) of the Secret's data as written. */
  dataHash: string;
  /**
   * The `changedSeq` of the desired state this sync wrote (DesiredSecret.changedSeq). A change that
   * lands while a sync is in flight has a higher seq, so the Secret stays pending. When absent the
   * record's own seq is used.
   */
  basisSeq?: number;
}

export interface SecretSyncFailed {
  namespace: string;
  secretName: string;
  reason: string;
  message: string;
}

/**
 * Secret sync released a Secret no live mount on this node asks for any more (this node's pods taken
 * out of its owners, or the Secret deleted). Until then the Secret stays in the projection as a
 * tombstone, so a release cut off by a crash is still done after the restart.
 */
export interface SecretReleased {
  namespace: string;
  secretName: string;
}

/** Payload type of each event type; the single source of truth for the unions below. */
export interface EventPayloads {
  MountPublished: MountPublished;
  MountUpdated: MountUpdated;
  MountFailed: MountFailed;
  MountUnpublished: MountUnpublished;
  SecretSynced: SecretSynced;
  SecretSyncFailed: SecretSyncFailed;
  SecretReleased: SecretReleased;
}

export type EventType = keyof EventPayloads;

export const EVENT_TYPES: readonly EventType[] = [
  'MountPublished',
  'MountUpdated',
  'MountFailed',
  'MountUnpublished',
  'SecretSynced',
  'SecretSyncFailed',
  'SecretReleased',
];

/** What a caller appends: the log assigns `seq` and `time`. */
export type NewEvent = { [K in EventType]: { type: K; payload: EventPayloads[K] } }[EventType];

/**
 * A record as stored and replayed. `seq` starts at 1 and has no gaps; `time` is ISO-8601 UTC;
 * `mountKey` repeats the payload's mount key (when it has one) so a reader can filter without
 * knowing every payload shape.
 */
export type LoggedEvent = {
  [K in EventType]: { seq: number; time: string; type: K; mountKey?: string; payload: EventPayloads[K] };
}[EventType];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/** The mount key an event is about, if it is about one mount. */
export function mountKeyOf(event: NewEvent): string | undefined {
  const payload = event.payload as { mountKey?: unknown };
  return typeof payload.mountKey === 'string' ? payload.mountKey : undefined;
}

/** Stamps a new event with its sequence number and time (used by every EventLog implementation). */
export function toLoggedEvent(event: NewEvent, seq: number, time: string): LoggedEvent {
  const mountKey = mountKeyOf(event);
  return { seq, time, type: event.type, ...(mountKey === undefined ? {} : { mountKey }), payload: event.payload } as LoggedEvent;
}

/**
 * A record, read back from storage, whose type this build does not know: a newer secretlet wrote it
 * and the node was then rolled back. Its checksum held, so it is not damage: it keeps its place in
 * the sequence (replay's state moves past its seq) and changes nothing in the projections. It is
 * never appended: `NewEvent` has no such type.
 */
export interface UnrecognizedRecord {
  seq: number;
  time: string;
  type: 'Unrecognized';
  /** The type the record was written with. */
  recordType: string;
}

/** What a replay yields: records of this build's types, and records of types it does not know. */
export type ReplayedRecord = LoggedEvent | UnrecognizedRecord;

/** Event types are identifiers; anything else in `type` is damage, not a newer version. */
const TYPE_NAME = /^[A-Z][A-Za-z0-9]{0,63}$/;

/**
 * Shape check of a record read back from storage. Only the envelope is checked: storage guards the
 * bytes with a checksum, so a record that passes it was written by this code or a newer version of
 * it; a type this build does not know is an UnrecognizedRecord.
 */
export function parseReplayedRecord(value: unknown): ReplayedRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return undefined;
  if (typeof r.time !== 'string' || typeof r.type !== 'string') return undefined;
  if (r.mountKey !== undefined && typeof r.mountKey !== 'string') return undefined;
  if (typeof r.payload !== 'object' || r.payload === null || Array.isArray(r.payload)) return undefined;
  if (!isEventType(r.type)) {
    if (!TYPE_NAME.test(r.type) || r.type === 'Unrecognized') return undefined;
    return { seq: r.seq as number, time: r.time, type: 'Unrecognized', recordType: r.type };
  }
  return {
    seq: r.seq as number,
    time: r.time,
    type: r.type,
    ...(r.mountKey === undefined ? {} : { mountKey: r.mountKey }),
    payload: r.payload,
  } as LoggedEvent;
}
