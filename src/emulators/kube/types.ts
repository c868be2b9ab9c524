/**
 * The shapes the Kubernetes emulator stores and serves. Objects are kept as plain JSON (what the
 * REST API carries), with only the metadata fields the emulator itself manages spelled out; a body
 * is stored as sent apart from those fields, defaults, and the unknown fields the type's decoder
 * drops (field-validation.ts).
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  [key: string]: unknown;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change to the store; `previous` is the object before a MODIFIED (used for selector transitions). */
export interface StoreEvent {
  type: WatchEventType;
  /** Resource type id (see ResourceType.id). */
  typeId: string;
  resourceVersion: number;
  object: KubeObject;
  previous?: KubeObject;
}
