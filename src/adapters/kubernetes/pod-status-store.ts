/**
 * Writes SecretProviderClassPodStatus objects exactly as the upstream driver does (driver.md §3):
 * create; on AlreadyExists read, take over the node label, replace status and owner, update. An
 * update with nothing changed is skipped, so republishes cost the API server one GET at most.
 * After rotation only `status.objects` changes: one JSON merge patch, which replaces the list.
 */
import { isDeepStrictEqual } from 'node:util';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ObjectVersion } from '../../core/model.js';
import type { CallerSignal } from '../../core/ports/caller-signal.js';
import type { PodStatusRecord, PodStatusStore } from '../../core/ports/pod-status-store.js';
import { statusObjects } from '../../core/ports/pod-status-store.js';
import { callerSignalOptions } from './caller-signal-options.js';
import { isConflict, isNotFound, kubeError } from './kube-errors.js';

const GROUP = 'secrets-store.csi.x-k8s.io';
const VERSION = 'v1';
const PLURAL = 'secretproviderclasspodstatuses';
export const NODE_NAME_LABEL = 'internal.secrets-store.csi.k8s.io/node-name';

interface PodStatusObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; ownerReferences?: unknown[]; resourceVersion?: string };
  status: Record<string, unknown>;
}

function desired(record: PodStatusRecord): PodStatusObject {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'SecretProviderClassPodStatus',
    metadata: {
      name: record.name,
      namespace: record.namespace,
      labels: { [NODE_NAME_LABEL]: record.nodeName },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: record.podName, uid: record.podUid }],
    },
    status: {
      podName: record.podName,
      secretProviderClassName: record.secretProviderClassName,
      mounted: true,
      targetPath: record.targetPath,
      ...(record.objects.length > 0 ? { objects: statusObjects(record.objects) } : {}),
    },
  };
}

export class KubePodStatusStore implements PodStatusStore {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async upsert(record: PodStatusRecord, signal?: CallerSignal): Promise<void> {
    const body = desired(record);
    const ref = { group: GROUP, version: VERSION, namespace: record.namespace, plural: PLURAL };
    const options = callerSignalOptions(signal);
    try {
      await this.api.createNamespacedCustomObject({ ...ref, body }, options);
      return;
    } catch (e) {
      if (!isConflict(e)) throw kubeError(`create SecretProviderClassPodStatus ${record.namespace}/${record.name}`, e);
    }
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        const current = (await this.api.getNamespacedCustomObject({ ...ref, name: record.name }, options)) as PodStatusObject;
        // Compared whatever the key order: a custom resource is stored as a Go map, so the API server
        // returns its keys sorted, never in the order `desired` builds them.
        const same =
          current.metadata.labels?.[NODE_NAME_LABEL] === record.nodeName &&
          isDeepStrictEqual(current.status, body.status) &&
          isDeepStrictEqual(current.metadata.ownerReferences ?? [], body.metadata.ownerReferences);
        if (same) return;
        const next: PodStatusObject = {
          ...current,
          metadata: {
            ...current.metadata,
            labels: { ...(current.metadata.labels ?? {}), [NODE_NAME_LABEL]: record.nodeName },
            ownerReferences: body.metadata.ownerReferences ?? [],
          },
          status: body.status,
        };
        await this.api.replaceNamespacedCustomObject({ ...ref, name: record.name, body: next }, options);
        return;
      } catch (e) {
        if (isConflict(e)) continue; // someone updated it between our GET and PUT: read again
        // Gone between the create's AlreadyExists and the read (the garbage collector removing the
        // status of a pod deleted a moment ago under the same name): create it after all.
        if (isNotFound(e)) {
          try {
            await this.api.createNamespacedCustomObject({ ...ref, body }, options);
            return;
          } catch (again) {
            if (isConflict(again)) continue;
            throw kubeError(`create SecretProviderClassPodStatus ${record.namespace}/${record.name}`, again);
          }
        }
        throw kubeError(`update SecretProviderClassPodStatus ${record.namespace}/${record.name}`, e);
      }
    }
    throw kubeError(`update SecretProviderClassPodStatus ${record.namespace}/${record.name}`, new Error('too many conflicts'));
  }

  async setObjects(namespace: string, name: string, objects: readonly ObjectVersion[]): Promise<boolean> {
    const sorted = statusObjects(objects);
    // null removes the field: the driver omits `objects` when there are none.
    const body = { status: { objects: sorted.length > 0 ? sorted : null } };
    try {
      await this.api.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw kubeError(`failed to update objects of secret provider class pod status ${namespace}/${name}`, e);
    }
  }
}
