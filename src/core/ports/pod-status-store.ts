import type { ObjectVersion } from '../model.js';
import type { CallerSignal } from './caller-signal.js';
import { compareIds } from '../render/go-order.js';

/** One SecretProviderClassPodStatus as the driver writes it (driver.md §3). */
export interface PodStatusRecord {
  /** `<pod>-<namespace>-<spc>` (podStatusName). */
  name: string;
  namespace: string;
  nodeName: string;
  podName: string;
  podUid: string;
  secretProviderClassName: string;
  targetPath: string;
  /** Sorted by id. */
  objects: ObjectVersion[];
}

/** The name the driver gives a pod's SecretProviderClassPodStatus for one class. */
export function podStatusName(podName: string, namespace: string, secretProviderClassName: string): string {
  return `${podName}-${namespace}-${secretProviderClassName}`;
}

/** `status.objects` as the driver writes it: `{id, version}` sorted by id in byte order. */
export function statusObjects(versions: readonly ObjectVersion[]): ObjectVersion[] {
  return versions.map((o) => ({ id: o.id, version: o.version })).sort((a, b) => compareIds(a.id, b.id));
}

/** Create-or-update of SecretProviderClassPodStatus objects; a no-op write when nothing changed. */
export interface PodStatusStore {
  /**
   * `signal`: the publish's caller. Once it has given up, the write stops, including a wait the API
   * server asked for (429 Retry-After), instead of finishing a mount kubelet no longer waits for.
   */
  upsert(record: PodStatusRecord, signal?: CallerSignal): Promise<void>;
  /**
   * Sets `status.objects` of an existing status (after rotation changed a mount's versions).
   * False when the status no longer exists (its pod is gone): it is not re-created.
   */
  setObjects(namespace: string, name: string, objects: readonly ObjectVersion[]): Promise<boolean>;
}
