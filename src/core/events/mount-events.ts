/**
 * Builds the mount events from what a mount produced, so both doors record the same facts the same
 * way: object versions from the provider response, `pinned` from the SPC entry, and the keyed hash
 * of each object's file (through the ContentHasher port; the bytes themselves never reach the log).
 */
import type { MountPlan, ObjectVersion, RenderedFile } from '../model.js';
import type { ContentHasher } from '../ports/event-log.js';
import type { SecretObjectSpec } from '../ports/spc-catalog.js';
import type { LoggedObject, MountDoor, MountUpdateCause, NewEvent } from './events.js';
import { isPinned } from '../mount/object-requests.js';
import { fileNameFor } from '../spc/file-name.js';
import { compareIds } from '../render/go-order.js';

/**
 * Kubelet's target path for a CSI inline volume (driver.md §1.5, the same pattern upstream's
 * SPCPS reconciler validates): `…/pods/<podUid>/volumes/kubernetes.io~csi/<volumeName>/mount`.
 */
const TARGET_PATH = /[\\/]+pods[\\/]+([^\\/]+)[\\/]+volumes[\\/]+kubernetes\.io~csi[\\/]+([^\\/]+)[\\/]+mount$/;

/** `<podUid>/<volumeId>`, the key of a mount in the log. */
export function mountKeyFor(podUid: string, volumeId: string): string {
  return `${podUid}/${volumeId}`;
}

/**
 * The provider door never sees a CSI volume_id, only the target path; there the key's second part
 * is the pod volume's name, which is just as unique per pod. Undefined for a path kubelet would not
 * produce.
 */
export function mountKeyFromTargetPath(targetPath: string): string | undefined {
  const match = TARGET_PATH.exec(targetPath);
  return match?.[1] === undefined || match[2] === undefined ? undefined : mountKeyFor(match[1], match[2]);
}

/**
 * One LoggedObject per SPC object, in SPC order. The hash covers the object's own file (its
 * `fileName`); files extracted with jmesPath derive from the same bytes. An object whose file is
 * not among `files` gets an empty hash rather than a made-up one.
 */
export function loggedObjects(
  plan: Pick<MountPlan, 'objects' | 'pathTranslation'>,
  versions: readonly ObjectVersion[],
  files: readonly RenderedFile[],
  hasher: ContentHasher,
): LoggedObject[] {
  const versionById = new Map(versions.map((v) => [v.id, v.version]));
  const fileByPath = new Map(files.map((f) => [f.path, f]));
  return plan.objects.map((o) => {
    const file = fileByPath.get(o.fileName);
    return {
      id: o.fileName,
      objectName: o.objectName,
      objectType: o.objectType,
      version: versionById.get(o.fileName) ?? '',
      pinned: isPinned(o),
      hash: file === undefined ? '' : hasher.hash(file.contents),
      jmesFiles: o.jmesPath.map((e) => fileNameFor(e.objectAlias, plan.pathTranslation)),
    };
  });
}

/**
 * The ObjectVersions a mount's files show, as the doors answer them (every file with its object's
 * version, sorted by id in byte order), rebuilt from the log. Undefined for a record written before
 * objects carried their jmesPath files: its list would miss those entries.
 */
export function mountVersions(objects: readonly LoggedObject[]): ObjectVersion[] | undefined {
  const versions = new Map<string, string>();
  for (const o of objects) {
    if (o.jmesFiles === undefined) return undefined;
    versions.set(o.id, o.version);
    for (const f of o.jmesFiles) versions.set(f, o.version);
  }
  return [...versions].map(([id, version]) => ({ id, version })).sort((a, b) => compareIds(a.id, b.id));
}

export interface MountPublishedInput {
  mountKey: string;
  door: MountDoor;
  plan: MountPlan;
  secretProviderClass: string;
  targetPath: string;
  versions: readonly ObjectVersion[];
  files: readonly RenderedFile[];
  /** The SPC's `secretObjects` (empty when it has none). */
  secretObjects: SecretObjectSpec[];
  hasher: ContentHasher;
}

export function mountPublishedEvent(input: MountPublishedInput): NewEvent {
  const { pod } = input.plan;
  return {
    type: 'MountPublished',
    payload: {
      mountKey: input.mountKey,
      door: input.door,
      pod: { namespace: pod.namespace, name: pod.name, uid: pod.uid },
      serviceAccount: pod.serviceAccount,
      secretProviderClass: input.secretProviderClass,
      authMode: input.plan.authMode,
      regions: [...input.plan.regions],
      targetPath: input.targetPath,
      objects: loggedObjects(input.plan, input.versions, input.files, input.hasher),
      secretObjects: input.secretObjects,
    },
  };
}

export interface MountUpdatedInput {
  mountKey: string;
  plan: Pick<MountPlan, 'objects' | 'pathTranslation'>;
  versions: readonly ObjectVersion[];
  files: readonly RenderedFile[];
  cause: MountUpdateCause;
  hasher: ContentHasher;
}

export function mountUpdatedEvent(input: MountUpdatedInput): NewEvent {
  return {
    type: 'MountUpdated',
    payload: { mountKey: input.mountKey, objects: loggedObjects(input.plan, input.versions, input.files, input.hasher), cause: input.cause },
  };
}
