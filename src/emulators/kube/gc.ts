/**
 * The garbage collector's rule, as a pure function: after an owner is deleted, a dependent goes
 * too when none of its owners (matched by uid, like Kubernetes) is still alive. This is how a
 * real cluster removes a pod's SecretProviderClassPodStatus and the driver's synced Secrets; the
 * emulator applies it only to dependents of the object just deleted (see README).
 */
import type { KubeObject } from './types.js';

export interface StoredObject {
  typeId: string;
  object: KubeObject;
}

/** Dependents of `deletedUid` all of whose owners are gone. */
export function orphanedDependents(
  objects: Iterable<StoredObject>,
  deletedUid: string,
  isAlive: (uid: string) => boolean,
): StoredObject[] {
  const found: StoredObject[] = [];
  for (const entry of objects) {
    // The store refuses malformed ownerReferences; the check keeps one bad object from stopping every delete anyway.
    const owners = Array.isArray(entry.object.metadata.ownerReferences) ? entry.object.metadata.ownerReferences : [];
    if (!owners.some((o) => o.uid === deletedUid)) continue;
    if (owners.every((o) => !isAlive(o.uid))) found.push(entry);
  }
  return found;
}
