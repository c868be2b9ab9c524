/**
 * The verbs on a resource URL: get, list (with selectors and limit/continue), watch, create,
 * update, patch (JSON merge, JSON patch, strategic merge, server-side apply), delete and
 * deletecollection, plus the `status` subresource (get, update, patch) and serviceaccounts/token.
 * Each returns the code and body the API server would, or streams (watch). Objects leave in the
 * version the URL asked for (the store keeps the storage version).
 */
import { prepareForCreate } from './defaults.js';
import { deleteCollection, deleteObject } from './delete-handler.js';
import { checkFields } from './field-validation.js';
import type { ApiResponse } from './http-exchange.js';
import { pageOf } from './paging.js';
import { applyJsonPatch, applyMergePatch } from './patch.js';
import type { ResourceType } from './resources.js';
import type { ResourcePath, Verb } from './routes.js';
import { compileSelector } from './selectors.js';
import { applyStrategicMergePatch } from './strategic-merge.js';
import { int64Param, writeOptions } from './request-options.js';
import type { WriteRequestOptions } from './request-options.js';
import { badRequest, methodNotAllowed, notFound, pathNotFound, resourceVersionRequired, unreasoned, unsupportedPatchType } from './status.js';
import { scopedWrite } from './status-subresource.js';
import type { WriteScope } from './status-subresource.js';
import type { ObjectStore } from './store.js';
import { createTokenRequest } from './token-request.js';
import type { TokenIssuer } from './tokens.js';
import type { KubeObject } from './types.js';
import { inVersion } from './versions.js';
import { serveWatch } from './watch.js';
import type { WatchStreams } from './watch.js';

export interface ResourceRequest {
  path: ResourcePath;
  verb: Verb;
  query: URLSearchParams;
  /** Media type of the body, without parameters. */
  contentType: string;
  body: unknown;
  res: ApiResponse;
  /** dryRun and fieldValidation, validated (set by handleResource for writes). */
  options?: WriteRequestOptions;
}

export interface HandlerDeps {
  store: ObjectStore;
  issuer: TokenIssuer;
  streams: WatchStreams;
}

/** A reply to send, or 'streamed' when the handler wrote the response itself (watch). */
export type HandlerResult = { code: number; body: unknown } | 'streamed';

function asObject(body: unknown, what: string): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`the body of the ${what} request must be an object`);
  const obj = body as KubeObject;
  // A missing or null metadata decodes as an empty one; any other non-object cannot be decoded.
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  if (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) throw badRequest(`the metadata of the ${what} request must be an object`);
  return obj;
}

/**
 * A body's kind and apiVersion, when given, must be the URL's type (the decoder refuses any other:
 * `the API version in the data (v1) does not match the expected API version (...)`, or a kind it
 * cannot convert); absent ones default to the URL's.
 */
function checkKind(obj: KubeObject, type: ResourceType): void {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  if (apiVersion !== '' && apiVersion !== type.apiVersion) {
    throw badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${type.apiVersion})`);
  }
  if (kind !== '' && kind !== type.kind) throw badRequest(`${kind} in version "${type.version}" cannot be handled as a ${type.kind}: no kind "${kind}" is registered for version "${type.apiVersion}" in scheme`);
}

/** Body namespace and name must agree with the URL, as the API server insists. */
function checkIdentity(obj: KubeObject, path: ResourcePath): void {
  if (path.type.namespaced) {
    const ns = obj.metadata.namespace;
    if (ns !== undefined && ns !== '' && path.namespace !== undefined && ns !== path.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (path.namespace !== undefined) obj.metadata.namespace = path.namespace;
  }
  if (path.name !== undefined) {
    const name = obj.metadata.name;
    if (name !== undefined && name !== '' && name !== path.name) {
      throw badRequest(`the name of the object (${name}) does not match the name on the URL (${path.name})`);
    }
    obj.metadata.name = path.name;
  }
}

/** The store's sort key of an object, which continue tokens name. */
function storeKey(type: ResourceType, obj: KubeObject): string {
  return `${type.namespaced ? (obj.metadata.namespace ?? '') : ''}/${obj.metadata.name ?? ''}`;
}

/**
 * The integer list options. The API server decodes all of them (ListOptions) before a list or a
 * watch does anything, so an unparseable one is refused even where it would not be used.
 */
function listOptions(query: URLSearchParams): { limit?: number; timeoutSeconds?: number } {
  const limit = int64Param(query, 'limit');
  const timeoutSeconds = int64Param(query, 'timeoutSeconds');
  return { ...(limit === undefined ? {} : { limit }), ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }) };
}

function list(deps: HandlerDeps, req: ResourceRequest): { code: number; body: { items: KubeObject[] } & Record<string, unknown> } {
  const { type, namespace } = req.path;
  const limit = listOptions(req.query).limit ?? 0;
  const selector = compileSelector({
    labelSelector: req.query.get('labelSelector') ?? '',
    fieldSelector: req.query.get('fieldSelector') ?? '',
    fieldLabels: type.fieldLabels,
  });
  const all = deps.store.list(type, namespace).filter((o) => selector.matches(o));
  const resourceVersion = deps.store.resourceVersion();
  const page = pageOf(all, (o) => storeKey(type, o), { limit, continueToken: req.query.get('continue') ?? '', resourceVersion });
  const metadata: Record<string, unknown> = { resourceVersion: String(resourceVersion) };
  if (page.continueToken !== undefined) {
    metadata['continue'] = page.continueToken;
    metadata['remainingItemCount'] = page.remainingItemCount;
  }
  return { code: 200, body: { kind: type.listKind, apiVersion: type.apiVersion, metadata, items: page.items.map((o) => inVersion(type, o)) } };
}

function watch(deps: HandlerDeps, req: ResourceRequest): HandlerResult {
  const { type, namespace, name } = req.path;
  let fieldSelector = req.query.get('fieldSelector') ?? '';
  // Watching one object by URL is a watch of the collection narrowed to that name.
  if (name !== undefined) fieldSelector = [fieldSelector, `metadata.name=${name}`].filter((s) => s !== '').join(',');
  const timeout = listOptions(req.query).timeoutSeconds;
  serveWatch({
    store: deps.store,
    streams: deps.streams,
    res: req.res,
    request: {
      type,
      ...(namespace === undefined ? {} : { namespace }),
      selector: compileSelector({ labelSelector: req.query.get('labelSelector') ?? '', fieldSelector, fieldLabels: type.fieldLabels }),
      resourceVersion: req.query.get('resourceVersion') ?? '',
      ...(timeout === undefined ? {} : { timeoutSeconds: timeout }),
    },
  });
  return 'streamed';
}

function get(deps: HandlerDeps, req: ResourceRequest): HandlerResult {
  const { type, namespace, name } = req.path;
  const found = deps.store.get(type, namespace, name ?? '');
  if (found === undefined) throw notFound(type, name ?? '');
  return { code: 200, body: inVersion(type, found) };
}

/** Stores `incoming` as an update through `scope`, keeping what that scope may not change. */
function write(deps: HandlerDeps, req: ResourceRequest, scope: WriteScope, incoming: KubeObject): HandlerResult {
  const { type, namespace } = req.path;
  const existing = deps.store.get(type, namespace, req.path.name ?? '');
  if (existing === undefined) throw notFound(type, req.path.name ?? '');
  const obj = scopedWrite({ scope, hasStatus: type.statusSubresource, existing, incoming });
  return { code: 200, body: inVersion(type, deps.store.update(type, obj, { dryRun: optionsOf(req).dryRun, viaApi: true })) };
}

function optionsOf(req: ResourceRequest): WriteRequestOptions {
  return req.options ?? { dryRun: false, fieldValidation: 'Warn' };
}

/** Prunes the request's object; unknown fields warn or fail as `fieldValidation` asks. */
function fieldCheck(req: ResourceRequest, obj: KubeObject, patch: boolean): void {
  checkFields({ type: req.path.type, obj, mode: optionsOf(req).fieldValidation, patch, res: req.res });
}

/** A create through POST (or a server-side apply of an absent object), as the registry prepares it. */
function create(deps: HandlerDeps, req: ResourceRequest, obj: KubeObject): HandlerResult {
  const { type } = req.path;
  const { dryRun } = optionsOf(req);
  // etcd3's store refuses this (a plain error: 500 without a reason); a dry run never reaches it.
  if (!dryRun && (obj.metadata.resourceVersion ?? '') !== '') throw unreasoned('resourceVersion should not be set on objects to be created');
  prepareForCreate(type, obj);
  return { code: 201, body: inVersion(type, deps.store.create(type, obj, { dryRun, viaApi: true })) };
}

function update(deps: HandlerDeps, req: ResourceRequest, scope: WriteScope): HandlerResult {
  const { type, name } = req.path;
  const obj = asObject(req.body, 'update');
  checkKind(obj, type);
  checkIdentity(obj, req.path);
  fieldCheck(req, obj, false);
  // Built-in types allow an unconditional PUT; custom resources do not (AllowUnconditionalUpdate).
  if (!type.builtin && (obj.metadata.resourceVersion ?? '') === '') throw resourceVersionRequired(type, name ?? '');
  return write(deps, req, scope, obj);
}

/** The object a PATCH of `existing` (as the URL's version sees it) asks for. */
function patchedObject(type: ResourceType, existing: KubeObject, req: ResourceRequest): unknown {
  switch (req.contentType) {
    case 'application/merge-patch+json':
      return applyMergePatch(existing, req.body);
    case 'application/strategic-merge-patch+json':
      // Custom resources have no patch strategy schema: a real server refuses this type for them.
      if (!type.builtin) throw unsupportedPatchType(type);
      return applyStrategicMergePatch(existing, req.body, type.kind);
    case 'application/json-patch+json':
      return applyJsonPatch(existing, req.body);
    default:
      throw unsupportedPatchType(type);
  }
}

function patch(deps: HandlerDeps, req: ResourceRequest, scope: WriteScope): HandlerResult {
  const { type, namespace } = req.path;
  const name = req.path.name ?? '';
  const existing = inVersion(type, deps.store.get(type, namespace, name));
  if (req.contentType === 'application/apply-patch+yaml') {
    // Server-side apply, simplified: create when absent, otherwise merge what the manager applied.
    const applied = asObject(req.body, 'apply');
    checkKind(applied, type);
    checkIdentity(applied, req.path);
    fieldCheck(req, applied, true);
    if (existing === undefined && scope === 'main') return create(deps, req, applied);
    if (existing === undefined) throw notFound(type, name);
    const { resourceVersion: _rv, ...metadata } = applied.metadata;
    return write(deps, req, scope, applyStrategicMergePatch(existing, { ...applied, metadata }, type.kind) as KubeObject);
  }
  if (existing === undefined) throw notFound(type, name);
  const obj = asObject(patchedObject(type, existing, req), 'patch');
  checkKind(obj, type);
  checkIdentity(obj, req.path);
  fieldCheck(req, obj, true);
  return write(deps, req, scope, obj);
}

function subresource(deps: HandlerDeps, req: ResourceRequest): HandlerResult {
  const { type, namespace, name, subresource: sub } = req.path;
  if (sub === 'token' && type.kind === 'ServiceAccount') {
    if (req.verb !== 'create') throw methodNotAllowed();
    // Minting stores nothing, so a dry run mints as well (the token is simply not used).
    return { code: 201, body: createTokenRequest({ store: deps.store, issuer: deps.issuer, namespace: namespace ?? 'default', serviceAccount: name ?? '', body: req.body }) };
  }
  // Only the kinds whose registry (or CRD) declares it have a status subresource.
  if (sub !== 'status' || !type.statusSubresource) throw pathNotFound();
  switch (req.verb) {
    case 'get':
      return get(deps, req);
    case 'update':
      return update(deps, req, 'status');
    case 'patch':
      return patch(deps, req, 'status');
    default:
      throw methodNotAllowed();
  }
}

function resourceVerb(deps: HandlerDeps, req: ResourceRequest): HandlerResult {
  const { type, namespace } = req.path;
  switch (req.verb) {
    case 'get':
      return get(deps, req);
    case 'list':
      return list(deps, req);
    case 'watch':
      return watch(deps, req);
    case 'create': {
      if (type.namespaced && namespace === undefined) throw methodNotAllowed();
      const obj = asObject(req.body, 'create');
      checkKind(obj, type);
      checkIdentity(obj, req.path);
      fieldCheck(req, obj, false);
      return create(deps, req, obj);
    }
    case 'update':
      return update(deps, req, 'main');
    case 'patch':
      return patch(deps, req, 'main');
    case 'delete':
      return deleteObject(deps.store, req.path, req.query, req.body, optionsOf(req).dryRun);
    case 'deletecollection':
      // The all-namespaces URL of a namespaced type has no deletecollection (routes.ts refuses it too).
      if (type.namespaced && namespace === undefined) throw methodNotAllowed();
      return deleteCollection(deps.store, req.path, list(deps, { ...req, query: new URLSearchParams([...req.query].filter(([k]) => k !== 'limit' && k !== 'continue')) }).body.items, {
        query: req.query,
        body: req.body,
        dryRun: optionsOf(req).dryRun,
      });
  }
}

export function handleResource(deps: HandlerDeps, req: ResourceRequest): HandlerResult {
  const options = writeOptions(req.verb, req.query, req.body);
  const withOptions = { ...req, options };
  return req.path.subresource === undefined ? resourceVerb(deps, withOptions) : subresource(deps, withOptions);
}
