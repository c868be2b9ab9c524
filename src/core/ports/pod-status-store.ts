import type { ObjectVersion } from '../model.js';

/** One SecretProviderClassPodStatus as the driver writes it (driver.md §3). */
export interface PodStatusRecord {
  /** `<pod>-<namespace>-<spc>` */
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

/** Create-or-update of SecretProviderClassPodStatus objects; a no-op write when nothing changed. */
export interface PodStatusStore {
  upsert(record: PodStatusRecord): Promise<void>;
}
