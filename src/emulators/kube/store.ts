/**
 * The emulator's etcd: every object by type, namespace and name, one global resourceVersion
 * counter, optimistic concurrency (a stale resourceVersion is a 409 Conflict, as client-go's
 * retry-on-conflict expects), an event history so watches can resume from a resourceVersion, and
 * the cascades a real control plane performs on delete (namespace contents, garbage collection).
 * Reads return copies, so nobody can change a stored object behind the store's back.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { applyDefaults, validateName } from './defaults.js';
import { pruneUnknownFields } from './field-validation.js';
import { orphanedDependents } from './gc.js';
import { canonical, generationOnCreate, generationOnUpdate } from './generation.js';
import type { StoredObject } from './gc.js';
import { typeById } from './resources.js';
import type { ResourceType } from './resources.js';
import { alreadyExists, badRequest, conflict, invalid, invalidFields, namespaceNotFound, notFound } from './status.js';
import type { KubeObject, StoreEvent, WatchEventType } from './types.js';
import { assertDecodes, validationErrors } from './validation.js';

export interface ObjectStoreOptions {
  /** Clock for creationTimestamp, in epoch milliseconds. */
  now: () => number;
  /** How many events are kept for watches that resume from a resourceVersion. @default 10000 */
  historyLimit?: number;
}

export type DeletePropagation = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: DeletePropagation;
  /** `dryRun=All`: every check runs, nothing is deleted, no cascade. */
  dryRun?: boolean;
}

/** `dryRun=All` on a write: admission, defaulting and validation run, nothing is stored or announced. */
export interface WriteOptions {
  dryRun?: boolean;
  /** A write through the REST API (not seeding): the registries' API-only rules apply too. */
  viaApi?: boolean;
}

type Listener = (event: StoreEvent) => void;

/** RFC 3339 with seconds precision, as Kubernetes writes timestamps. */
export function kubeTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class ObjectStore {
  readonly #now: () => number;
  readonly #historyLimit: number;
  readonly #byType = new Map<string, Map<string, KubeObject>>();
  readonly #uids = new Set<string>();
  readonly #listeners = new Set<Listener>();
  #history: StoreEvent[] = [];
  /** Highest resourceVersion dropped from the history; watches from before it get 410 Expired. */
  #compactedThrough = 0;
  #resourceVersion = 0;

  constructor(options: ObjectStoreOptions) {
    this.#now = options.now;
    this.#historyLimit = options.historyLimit ?? 10_000;
  }

  resourceVersion(): number {
    return this.#resourceVersion;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events after `resourceVersion`, or undefined when they were compacted away (410 Expired). */
  eventsSince(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion < this.#compactedThrough) return undefined;
    return this.#history.filter((e) => e.resourceVersion > resourceVersion).map((e) => structuredClone(e));
  }

  compactedThrough(): number {
    return this.#compactedThrough;
  }

  isAlive(uid: string): boolean {
    return this.#uids.has(uid);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.#byType.get(type.id)?.get(objectKey(type.namespaced ? namespace : undefined, name));
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Objects of a type, in one namespace or all, sorted by namespace and name like etcd keys. */
  list(type: ResourceType, namespace?: string): KubeObject[] {
    const all = [...(this.#byType.get(type.id)?.entries() ?? [])]
      .filter(([, o]) => namespace === undefined || !type.namespaced || o.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return all.map(([, o]) => structuredClone(o));
  }

  /**
   * Creates an object. Into a namespace that does not exist this fails with 404, as on a real
   * server, unless `createNamespace` (the seeding path, `upsert`) asks for it to be made first.
   * The server assigns the uid, as a real one does, unless `keepUid` (seeding again) keeps the
   * input's: seeded Pods, Events and owner references name objects by the uid the caller chose.
   */
  create(type: ResourceType, input: KubeObject, options: { createNamespace?: boolean; keepUid?: boolean } & WriteOptions = {}): KubeObject {
    const obj = this.#prepare(type, input);
    let name = obj.metadata.name ?? '';
    if (name === '' && obj.metadata.generateName) {
      name = `${obj.metadata.generateName}${randomBytes(4).toString('hex').slice(0, 5)}`;
      obj.metadata.name = name;
    }
    if (name === '') throw invalid(type, '', 'metadata.name', 'Required value: name or generateName is required');
    validateName(type, name);
    const namespace = obj.metadata.namespace;
    if (namespace !== undefined) {
      if (options.createNamespace === true) this.ensureNamespace(namespace);
      else this.#requireNamespace(namespace);
    }
    const givenUid = obj.metadata.uid ?? '';
    if (options.keepUid === true && givenUid !== '' && this.#uids.has(givenUid)) {
      throw invalid(type, name, 'metadata.uid', `Invalid value: ${JSON.stringify(givenUid)}: already the uid of another object`);
    }
    obj.metadata.uid = options.keepUid === true && givenUid !== '' ? givenUid : randomUUID();
    generationOnCreate(type, obj);
    obj.metadata.creationTimestamp = kubeTimestamp(this.#now());
    delete obj.metadata.deletionTimestamp;
    applyDefaults(type, obj, { creating: true });
    this.#validate(type, obj, undefined, options.viaApi);
    // As on the API server, validation comes before storage's existence check: a client may learn
    // from a dry-run create's 409 that an object would be accepted (Secret sync's type change does).
    if (this.#byType.get(type.id)?.has(objectKey(namespace, name))) throw alreadyExists(type, name);
    // A dry-run create answers what would be stored, without the resourceVersion storage assigns.
    if (options.dryRun === true) return obj;
    this.#put(type, obj, 'ADDED');
    if (type.kind === 'Namespace') this.#createDefaultServiceAccount(name);
    return structuredClone(obj);
  }

  /**
   * Replaces an existing object (PUT). A resourceVersion in the input is a precondition; without
   * one the update is unconditional, as the API server allows for these types. An update that
   * changes nothing is a no-op that keeps the resourceVersion, as on a real server.
   */
  update(type: ResourceType, input: KubeObject, options: WriteOptions = {}): KubeObject {
    const obj = this.#prepare(type, input);
    const name = obj.metadata.name ?? '';
    const existing = this.#byType.get(type.id)?.get(objectKey(obj.metadata.namespace, name));
    if (existing === undefined) throw notFound(type, name);
    const wanted = obj.metadata.resourceVersion;
    if (wanted !== undefined && wanted !== '' && wanted !== existing.metadata.resourceVersion) throw conflict(type, name);
    if (obj.metadata.uid !== undefined && obj.metadata.uid !== '' && obj.metadata.uid !== existing.metadata.uid) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${existing.metadata.uid}`);
    }
    obj.metadata.uid = existing.metadata.uid;
    obj.metadata.creationTimestamp = existing.metadata.creationTimestamp;
    obj.metadata.resourceVersion = existing.metadata.resourceVersion;
    if (existing.metadata.deletionTimestamp !== undefined) obj.metadata.deletionTimestamp = existing.metadata.deletionTimestamp;
    applyDefaults(type, obj);
    generationOnUpdate(type, obj, existing);
    this.#validate(type, obj, existing, options.viaApi);
    if (canonical(obj) === canonical(existing)) return structuredClone(existing);
    // A dry-run update answers what would be stored, still at the stored resourceVersion.
    if (options.dryRun === true) return obj;
    this.#put(type, obj, 'MODIFIED', existing);
    return structuredClone(obj);
  }

  /** Create or replace, ignoring resourceVersion: for seeding and tests, not for the REST API. */
  upsert(type: ResourceType, input: KubeObject): KubeObject {
    const name = input.metadata.name ?? '';
    const namespace = type.namespaced ? (input.metadata.namespace ?? 'default') : undefined;
    const withNamespace: KubeObject = { ...input, metadata: { ...input.metadata, namespace } };
    if (this.get(type, namespace, name) === undefined) return this.create(type, withNamespace, { createNamespace: true, keepUid: true });
    const { resourceVersion: _rv, uid: _uid, ...metadata } = withNamespace.metadata;
    return this.update(type, { ...withNamespace, metadata });
  }

  /**
   * Deletes at once (no finalizers, no grace period), then what a control plane deletes in turn:
   * the contents of a deleted namespace, and dependents left without any owner (unless Orphan).
   */
  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): KubeObject {
    const key = objectKey(type.namespaced ? namespace : undefined, name);
    const existing = this.#byType.get(type.id)?.get(key);
    if (existing === undefined) throw notFound(type, name);
    const pre = options.preconditions ?? {};
    if (pre.uid !== undefined && pre.uid !== existing.metadata.uid) {
      throw conflict(type, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`);
    }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`);
    }
    if (options.dryRun === true) return structuredClone(existing);
    this.#byType.get(type.id)?.delete(key);
    const uid = existing.metadata.uid ?? '';
    this.#uids.delete(uid);
    const deleted = structuredClone(existing);
    deleted.metadata.resourceVersion = String(++this.#resourceVersion);
    this.#emit({ type: 'DELETED', typeId: type.id, resourceVersion: this.#resourceVersion, object: deleted });
    if (type.kind === 'Namespace') this.#deleteNamespaceContents(name);
    if (options.propagationPolicy === 'Orphan') this.#orphan(uid);
    else this.#collectGarbage(uid);
    return structuredClone(deleted);
  }

  /** For seeding: makes the namespace (with its `default` ServiceAccount) unless it exists. */
  ensureNamespace(name: string): void {
    const nsType = typeById('/namespaces');
    if (nsType === undefined || this.#byType.get(nsType.id)?.has(objectKey(undefined, name))) return;
    this.create(nsType, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  /** A write into a missing namespace is `namespaces "<name>" not found` (404) on a real server. */
  #requireNamespace(name: string): void {
    const nsType = typeById('/namespaces');
    if (nsType === undefined || this.#byType.get(nsType.id)?.has(objectKey(undefined, name))) return;
    throw namespaceNotFound(nsType, name);
  }

  *#allObjects(): Iterable<StoredObject> {
    for (const [typeId, objects] of this.#byType) for (const object of objects.values()) yield { typeId, object };
  }

  #createDefaultServiceAccount(namespace: string): void {
    const saType = typeById('/serviceaccounts');
    if (saType === undefined || this.get(saType, namespace, 'default') !== undefined) return;
    this.create(saType, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } });
  }

  #deleteNamespaceContents(namespace: string): void {
    for (const entry of [...this.#allObjects()]) {
      const type = typeById(entry.typeId);
      if (type?.namespaced && entry.object.metadata.namespace === namespace) {
        this.delete(type, namespace, entry.object.metadata.name ?? '', { propagationPolicy: 'Orphan' });
      }
    }
  }

  #collectGarbage(deletedUid: string): void {
    for (const entry of orphanedDependents([...this.#allObjects()], deletedUid, (uid) => this.#uids.has(uid))) {
      const type = typeById(entry.typeId);
      const { namespace, name } = entry.object.metadata;
      // A dependent may already be gone through an earlier cascade in this loop.
      if (type !== undefined && this.get(type, namespace, name ?? '') !== undefined) this.delete(type, namespace, name ?? '');
    }
  }

  /** Orphan propagation: the dependents stay, minus their reference to the deleted owner. */
  #orphan(deletedUid: string): void {
    for (const entry of [...this.#allObjects()]) {
      const owners = entry.object.metadata.ownerReferences;
      const type = typeById(entry.typeId);
      if (type === undefined || !Array.isArray(owners) || !owners.some((o) => o.uid === deletedUid)) continue;
      const updated = structuredClone(entry.object);
      const remaining = owners.filter((o) => o.uid !== deletedUid);
      // The garbage collector's orphaning patch leaves no empty list behind: the field goes.
      if (remaining.length === 0) delete updated.metadata.ownerReferences;
      else updated.metadata.ownerReferences = remaining;
      this.update(type, updated);
    }
  }

  /** 422 Invalid with every field error, as the type's strategy validates a create or update. */
  #validate(type: ResourceType, obj: KubeObject, previous?: KubeObject, viaApi = false): void {
    const errors = validationErrors(type, obj, previous, viaApi);
    if (errors.length > 0) throw invalidFields(type, obj.metadata.name ?? '', errors);
  }

  /**
   * Copies the input, refuses what does not decode as the type (400), and fixes apiVersion (the
   * storage version: every served version of a type is stored as one), kind and namespace.
   */
  #prepare(type: ResourceType, input: KubeObject): KubeObject {
    if (typeof input !== 'object' || input === null || typeof input.metadata !== 'object' || input.metadata === null || Array.isArray(input.metadata)) {
      throw badRequest(`the body of the ${type.kind} is not an object with metadata`);
    }
    const obj = structuredClone(input);
    // What the decoder does not know is dropped, as on a real server (the HTTP path warned or refused already).
    pruneUnknownFields(type, obj);
    assertDecodes(type, obj);
    obj.apiVersion = typeById(type.id)?.apiVersion ?? type.apiVersion;
    obj.kind = type.kind;
    if (type.namespaced) obj.metadata.namespace = obj.metadata.namespace || 'default';
    else delete obj.metadata.namespace;
    return obj;
  }

  #put(type: ResourceType, obj: KubeObject, eventType: WatchEventType, previous?: KubeObject): void {
    obj.metadata.resourceVersion = String(++this.#resourceVersion);
    let objects = this.#byType.get(type.id);
    if (objects === undefined) {
      objects = new Map();
      this.#byType.set(type.id, objects);
    }
    objects.set(objectKey(obj.metadata.namespace, obj.metadata.name ?? ''), obj);
    this.#uids.add(obj.metadata.uid ?? '');
    const event: StoreEvent = { type: eventType, typeId: type.id, resourceVersion: this.#resourceVersion, object: structuredClone(obj) };
    if (previous !== undefined) event.previous = structuredClone(previous);
    this.#emit(event);
  }

  #emit(event: StoreEvent): void {
    this.#history.push(event);
    if (this.#history.length > this.#historyLimit) {
      const dropped = this.#history.splice(0, this.#history.length - this.#historyLimit);
      this.#compactedThrough = dropped[dropped.length - 1]?.resourceVersion ?? this.#compactedThrough;
    }
    for (const listener of [...this.#listeners]) listener(event);
  }
}
