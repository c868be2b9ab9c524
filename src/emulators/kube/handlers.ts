/**
 * The verbs on a resource URL: get, list (with selectors and limit/continue), watch, create,
 * update, patch (JSON merge, JSON patch, strategic merge, server-side apply), delete and
 * deletecollection, plus the serviceaccounts/token subresource. Each returns the code and body the
 * API server would, or streams (watch).
 */
import type { ServerResponse } from 'node:http';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch.js';
import type { ResourcePath, Verb } from './routes.js';
import { compileSelector } from './selectors.js';
import { badRequest, methodNotAllowed, notFound, pathNotFound, resourceVersionRequired, unsupportedPatchType } from './status.js';
import type { DeleteOptions, DeletePropagation, ObjectStore } from './store.js';
import { createTokenRequest } from './token-request.js';
import type { TokenIssuer } from './tokens.js';
import type { KubeObject } from './types.js';
import { serveWatch } from './watch.js';
import type { WatchStreams } from './watch.js';

export interface ResourceRequest {
  path: ResourcePath;
  verb: Verb;
  query: URLSearchParams;
  /** Media type of the body, without parameters. */
  contentType: string;
  body: unknown;
  res: ServerResponse;
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
  if (typeof obj.metadata !== 'object' || obj.metadata === null) obj.metadata = {};
  return obj;
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

function list(deps: HandlerDeps, req: ResourceRequest): HandlerResult {
  const { type, namespace } = req.path;
  const selector = compileSelector({
    labelSelector: req.query.get('labelSelector') ?? '',
    fieldSelector: req.query.get('fieldSelector') ?? '',
    fieldLabels: type.fieldLabels,
  });
  const all = deps.store.list(type, namespace).filter((o) => selector.matches(o));
  const limit = Number(req.query.get('limit') ?? '0');
  const offset = Number(Buffer.from(req.query.get('continue') ?? '', 'base64url').toString('utf8') || '0');
  const items = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
  const metadata: Record<string, unknown> = { resourceVersion: String(deps.store.resourceVersion()) };
  if (limit > 0 && offset + limit < all.length) {
    metadata['continue'] = Buffer.from(String(offset + limit)).toString('base64url');
    metadata['remainingItemCount'] = all.length - offset - limit;
  }
  return { code: 200, body: { kind: type.listKind, apiVersion: type.apiVersion, metadata, items } };
}

function watch(deps: HandlerDeps, req: ResourceRequest): HandlerResult {
  const { type, namespace, name } = req.path;
  let fieldSelector = req.query.get('fieldSelector') ?? '';
  // Watching one object by URL is a watch of the collection narrowed to that name.
  if (name !== undefined) fieldSelector = [fieldSelector, `metadata.name=${name}`].filter((s) => s !== '').join(',');
  const timeout = req.query.get('timeoutSeconds');
  serveWatch({
    store: deps.store,
    streams: deps.streams,
    res: req.res,
    request: {
      type,
      ...(namespace === undefined ? {} : { namespace }),
      selector: compileSelector({ labelSelector: req.query.get('labelSelector') ?? '', fieldSelector, fieldLabels: type.fieldLabels }),
      resourceVersion: req.query.get('resourceVersion') ?? '',
      ...(timeout === null ? {} : { timeoutSeconds: Number(timeout) }),
    },
  });
  return 'streamed';
}

function patch(deps: HandlerDeps, req: ResourceRequest): HandlerResult {
  const { type, namespace } = req.path;
  const name = req.path.name ?? '';
  const existing = deps.store.get(type, namespace, name);
  if (req.contentType === 'application/apply-patch+yaml') {
    // Server-side apply, simplified: create when absent, otherwise merge what the manager applied.
    const applied = asObject(req.body, 'apply');
    checkIdentity(applied, req.path);
    if (existing === undefined) return { code: 201, body: deps.store.create(type, applied) };
    const { resourceVersion: _rv, ...metadata } = applied.metadata;
    const merged = applyStrategicMergePatch(existing, { ...applied, metadata }) as KubeObject;
    return { code: 200, body: deps.store.update(type, merged) };
  }
  if (existing === undefined) throw notFound(type, name);
  let patched: unknown;
  switch (req.contentType) {
    case 'application/merge-patch+json':
      patched = applyMergePatch(existing, req.body);
      break;
    case 'application/strategic-merge-patch+json':
      // Custom resources have no patch strategy schema: a real server refuses this type for them.
      if (!type.builtin) throw unsupportedPatchType(type);
      patched = applyStrategicMergePatch(existing, req.body);
      break;
    case 'application/json-patch+json':
      patched = applyJsonPatch(existing, req.body);
      break;
    default:
      throw unsupportedPatchType(type);
  }
  const obj = asObject(patched, 'patch');
  checkIdentity(obj, req.path);
  return { code: 200, body: deps.store.update(type, obj) };
}

function deleteOptions(req: ResourceRequest): DeleteOptions {
  const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as {
    propagationPolicy?: DeletePropagation;
    orphanDependents?: boolean;
    preconditions?: { uid?: string; resourceVersion?: string };
  };
  const policy = (req.query.get('propagationPolicy') as DeletePropagation | null) ?? body.propagationPolicy;
  const orphan = body.orphanDependents === true || req.query.get('orphanDependents') === 'true';
  return {
    ...(body.preconditions === undefined ? {} : { preconditions: body.preconditions }),
    ...(orphan ? { propagationPolicy: 'Orphan' } : policy === undefined ? {} : { propagationPolicy: policy }),
  };
}

function subresource(deps: HandlerDeps, req: ResourceRequest): HandlerResult {
  const { type, namespace, name, subresource: sub } = req.path;
  if (sub === 'token' && type.kind === 'ServiceAccount' && req.verb === 'create') {
    return { code: 201, body: createTokenRequest({ store: deps.store, issuer: deps.issuer, namespace: namespace ?? 'default', serviceAccount: name ?? '', body: req.body }) };
  }
  if (sub === 'status') return resourceVerb(deps, { ...req, path: { ...req.path, subresource: undefined } });
  throw pathNotFound();
}

function resourceVerb(deps: HandlerDeps, req: ResourceRequest): HandlerResult {
  const { type, namespace, name } = req.path;
  switch (req.verb) {
    case 'get': {
      const found = deps.store.get(type, namespace, name ?? '');
      if (found === undefined) throw notFound(type, name ?? '');
      return { code: 200, body: found };
    }
    case 'list':
      return list(deps, req);
    case 'watch':
      return watch(deps, req);
    case 'create': {
      if (type.namespaced && namespace === undefined) throw methodNotAllowed();
      const obj = asObject(req.body, 'create');
      checkIdentity(obj, req.path);
      return { code: 201, body: deps.store.create(type, obj) };
    }
    case 'update': {
      const obj = asObject(req.body, 'update');
      checkIdentity(obj, req.path);
      // Built-in types allow an unconditional PUT; custom resources do not (AllowUnconditionalUpdate).
      if (!type.builtin && (obj.metadata.resourceVersion ?? '') === '') throw resourceVersionRequired(type, name ?? '');
      return { code: 200, body: deps.store.update(type, obj) };
    }
    case 'patch':
      return patch(deps, req);
    case 'delete':
      return { code: 200, body: deps.store.delete(type, namespace, name ?? '', deleteOptions(req)) };
    case 'deletecollection': {
      const listed = list(deps, { ...req, query: new URLSearchParams([...req.query].filter(([k]) => k !== 'limit' && k !== 'continue')) });
      const items = listed === 'streamed' ? [] : ((listed.body as { items: KubeObject[] }).items ?? []);
      const options = deleteOptions(req);
      const deleted = items.flatMap((o) => {
        const current = deps.store.get(type, o.metadata.namespace, o.metadata.name ?? '');
        return current === undefined ? [] : [deps.store.delete(type, o.metadata.namespace, o.metadata.name ?? '', options)];
      });
      return { code: 200, body: { kind: type.listKind, apiVersion: type.apiVersion, metadata: {}, items: deleted } };
    }
  }
}

export function handleResource(deps: HandlerDeps, req: ResourceRequest): HandlerResult {
  return req.path.subresource === undefined ? resourceVerb(deps, req) : subresource(deps, req);
}
