/**
 * The DesiredSecrets projection: the Kubernetes Secrets that `secretObjects` ask for, derived from
 * the live mounts (sync needs a pod that mounts the SPC, driver.md §4.6), with their owning pods,
 * the mount to read the data from, and the sync checkpoint. The Secret sync consumer works from it:
 * a Secret is pending while its desired state changed after the last successful sync (by seq).
 *
 * A Secret with no live mount left on this node is dropped from the projection; Secret sync then
 * takes this node's pods out of its owners (and deletes it if none is left), the rest is Kubernetes
 * garbage collection's job (ownerReferences), as upstream. One that was synced stays as a tombstone
 * (no owners, `releasing` names the pods that owned it) until its SecretReleased record: a pod that
 * still runs but whose class stopped asking for the Secret would otherwise keep owning it for its
 * whole life when a crash cut the release off.
 */
import type { LoggedEvent, LoggedObject, PodRef } from './events.js';
import type { MountEntry, MountRegistry } from './mount-registry.js';
import type { SecretObjectSpec } from '../ports/spc-catalog.js';

export interface SecretOwner {
  mountKey: string;
  uid: string;
  name: string;
}

/** One `secretObjects[].data[].objectName` as found in the source mount (an object's file or one of its jmesPath files). */
export interface SecretSource {
  objectName: string;
  version: string;
  hash: string;
}

export interface SecretSyncCheckpoint {
  /** Seq of the SecretSynced record. */
  seq: number;
  /** The desired state's `changedSeq` that sync wrote. */
  basisSeq: number;
  dataHash: string;
  mountKeys: string[];
}

export interface SecretSyncFailure {
  seq: number;
  reason: string;
  message: string;
}

export interface DesiredSecret {
  namespace: string;
  secretName: string;
  /** The spec of the source mount (the most recently changed mount wins when pods disagree). */
  spec: SecretObjectSpec;
  /** Every live mount asking for this Secret, one per mount key, sorted by mount key. */
  owners: SecretOwner[];
  /** The live mount whose files hold the freshest data: read the Secret's data from it. */
  sourceMountKey: string;
  /** The source mount's objects named by `spec.data`, in spec order; names it does not hold are absent. */
  sources: SecretSource[];
  /** Seq of the last record that changed spec, owners or source contents. */
  changedSeq: number;
  synced?: SecretSyncCheckpoint;
  lastFailure?: SecretSyncFailure;
  /** Only on a tombstone (no owners): uids of the pods that owned it when the last one went. */
  releasing?: string[];
}

export type DesiredSecrets = ReadonlyMap<string, DesiredSecret>;

export function secretKey(namespace: string, secretName: string): string {
  return `${namespace}/${secretName}`;
}

/** True while the Secret's desired state is newer than its last successful sync (never for a tombstone). */
export function isSyncPending(secret: DesiredSecret): boolean {
  return !isReleasePending(secret) && (secret.synced === undefined || secret.synced.basisSeq < secret.changedSeq);
}

/** A tombstone: no live mount here asks for the Secret, and its release is not on record yet. */
export function isReleasePending(secret: DesiredSecret): boolean {
  return secret.owners.length === 0;
}

/** The Secret if some live mount here asks for it; undefined for a tombstone or no entry at all. */
export function liveSecret(secret: DesiredSecret | undefined): DesiredSecret | undefined {
  return secret === undefined || isReleasePending(secret) ? undefined : secret;
}

/** Keys of the Secrets a mount asks for (names trimmed as upstream does). */
export function secretKeysOf(mount: MountEntry | undefined): string[] {
  if (mount === undefined) return [];
  return mount.secretObjects
    .filter((s) => s.secretName.trim() !== '')
    .map((s) => secretKey(mount.pod.namespace, s.secretName.trim()));
}

/**
 * Applies one record. `before` and `after` are the registry around the same record, so a mount
 * event recomputes exactly the Secrets that the mount asked for before or asks for now.
 */
export function applyToDesiredSecrets(
  secrets: DesiredSecrets,
  record: LoggedEvent,
  registries: { before: MountRegistry; after: MountRegistry },
): DesiredSecrets {
  switch (record.type) {
    case 'MountPublished':
    case 'MountUpdated':
    case 'MountUnpublished': {
      const key = record.payload.mountKey;
      const affected = new Set([...secretKeysOf(registries.before.get(key)), ...secretKeysOf(registries.after.get(key))]);
      if (affected.size === 0) return secrets;
      const next = new Map(secrets);
      for (const k of affected) {
        const desired = deriveSecret(k, registries.after, secrets.get(k), record.seq);
        if (desired === undefined) next.delete(k);
        else next.set(k, desired);
      }
      return next;
    }
    case 'SecretSynced': {
      const p = record.payload;
      const k = secretKey(p.namespace, p.secretName);
      const current = secrets.get(k);
      if (current === undefined) return secrets;
      const { lastFailure: _cleared, ...rest } = current;
      const synced: SecretSyncCheckpoint = {
        seq: record.seq,
        basisSeq: p.basisSeq ?? record.seq,
        dataHash: p.dataHash,
        mountKeys: [...p.mountKeys],
      };
      return new Map(secrets).set(k, { ...rest, synced });
    }
    case 'SecretSyncFailed': {
      const p = record.payload;
      const k = secretKey(p.namespace, p.secretName);
      const current = secrets.get(k);
      if (current === undefined) return secrets;
      const lastFailure: SecretSyncFailure = { seq: record.seq, reason: p.reason, message: p.message };
      return new Map(secrets).set(k, { ...current, lastFailure });
    }
    case 'SecretReleased': {
      const k = secretKey(record.payload.namespace, record.payload.secretName);
      const current = secrets.get(k);
      // Asked for again meanwhile: it is live, not released.
      if (current === undefined || !isReleasePending(current)) return secrets;
      const next = new Map(secrets);
      next.delete(k);
      return next;
    }
    case 'MountFailed':
      return secrets;
  }
}

/** Recomputes one Secret from the live mounts; keeps the sync checkpoint; undefined when no mount asks for it. */
function deriveSecret(key: string, registry: MountRegistry, previous: DesiredSecret | undefined, seq: number): DesiredSecret | undefined {
  const contributors: Array<{ mount: MountEntry; spec: SecretObjectSpec }> = [];
  for (const mount of registry.values()) {
    // Two entries of one class naming the same Secret: the driver writes each in turn with a full
    // PUT, so the last entry's data is what stays; the same entry is taken here.
    let last: SecretObjectSpec | undefined;
    for (const spec of mount.secretObjects) {
      if (secretKey(mount.pod.namespace, spec.secretName.trim()) === key) last = spec;
    }
    if (last !== undefined) contributors.push({ mount, spec: last });
  }
  if (contributors.length === 0) return previous?.synced === undefined ? undefined : tombstoneOf(previous);
  // Freshest data wins; ties (same change seq) go to the latest publish, then the mount key, so the
  // choice is deterministic whatever the Map order.
  const source = contributors.reduce((best, c) => (fresher(c.mount, best.mount) ? c : best));
  const owners = contributors
    .map(({ mount }) => ownerOf(mount.mountKey, mount.pod))
    .sort((a, b) => (a.mountKey < b.mountKey ? -1 : a.mountKey > b.mountKey ? 1 : 0));
  const objects = objectsByFile(source.mount.objects);
  const sources: SecretSource[] = [];
  for (const d of source.spec.data) {
    const file = d.objectName.trim();
    const o = objects.get(file);
    if (o !== undefined) sources.push({ objectName: file, version: o.version, hash: o.hash });
  }
  const [namespace = '', secretName = ''] = splitKey(key);
  const content = { spec: source.spec, owners, sources };
  const changed =
    previous === undefined ||
    canonicalJson(content) !== canonicalJson({ spec: previous.spec, owners: previous.owners, sources: previous.sources });
  return {
    namespace,
    secretName,
    ...content,
    sourceMountKey: source.mount.mountKey,
    changedSeq: changed ? seq : previous.changedSeq,
    ...(previous?.synced === undefined ? {} : { synced: previous.synced }),
    ...(previous?.lastFailure === undefined ? {} : { lastFailure: previous.lastFailure }),
  };
}

/** The Secret once no live mount asks for it; a tombstone already stays as it is. */
function tombstoneOf(previous: DesiredSecret): DesiredSecret {
  if (isReleasePending(previous)) return previous;
  return { ...previous, owners: [], releasing: previous.owners.map((o) => o.uid) };
}

/**
 * Every mounted file by name, with the object it comes from: the object's own file and the files of
 * its jmesPath entries (the usual way `secretObjects` pick keys out of a JSON secret). A jmesPath
 * file carries its object's hash, since it is derived from the same bytes: when they change, the
 * Secret must be written again. An object's own file wins over a jmesPath file of the same name.
 */
function objectsByFile(objects: readonly LoggedObject[]): Map<string, LoggedObject> {
  const byFile = new Map<string, LoggedObject>();
  for (const o of objects) for (const f of o.jmesFiles ?? []) if (!byFile.has(f)) byFile.set(f, o);
  for (const o of objects) byFile.set(o.id, o);
  return byFile;
}

function fresher(a: MountEntry, b: MountEntry): boolean {
  if (a.changedSeq !== b.changedSeq) return a.changedSeq > b.changedSeq;
  if (a.publishedSeq !== b.publishedSeq) return a.publishedSeq > b.publishedSeq;
  return a.mountKey > b.mountKey;
}

function ownerOf(mountKey: string, pod: PodRef): SecretOwner {
  return { mountKey, uid: pod.uid, name: pod.name };
}

/** Namespaces cannot contain '/', Secret names cannot either: the first '/' splits the key. */
function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** JSON with object keys sorted, so equal content compares equal whatever order its keys were built in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
