/**
 * URL → what a request addresses. Resource URLs follow the API server's layout:
 * `/api/v1[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]` and the same under
 * `/apis/{group}/{version}`, plus the legacy `/watch/` prefix. `/api/v1/namespaces/{name}` is the
 * Namespace object itself, which is why the namespaced form is recognised by its third segment.
 */
import { typeByPath } from './resources.js';
import type { ResourceType } from './resources.js';
import { badRequest } from './status.js';

export interface ResourcePath {
  type: ResourceType;
  /** Set for namespaced URLs; undefined means all namespaces (or a cluster-scoped type). */
  namespace?: string;
  name?: string;
  subresource?: string;
  /** True for the legacy `/watch/` URL prefix. */
  watchPrefix: boolean;
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

function splitGroupVersion(segments: string[]): { group: string; version: string; rest: string[] } | undefined {
  if (segments[0] === 'api' && segments.length >= 2) return { group: '', version: segments[1] ?? '', rest: segments.slice(2) };
  if (segments[0] === 'apis' && segments.length >= 3) return { group: segments[1] ?? '', version: segments[2] ?? '', rest: segments.slice(3) };
  return undefined;
}

/**
 * A path segment without its %-escapes; a malformed escape (`%`, `%zz`) is the client's error, a 400.
 * So is a segment that is `.` or `..`, escaped or not: the server routes on the path as sent, and
 * such a segment names no object (the API server's IsValidPathSegmentName refuses it as a name),
 * whereas resolving it would make `DELETE .../secrets/..` address the namespace itself.
 */
function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw badRequest(`invalid URL escape in the path segment ${JSON.stringify(segment)}`);
  }
  if (decoded === '.' || decoded === '..') throw invalidName(decoded, `may not be '${decoded}'`);
  return decoded;
}

/** The registry's 400 for a name that cannot be a path segment (its KeyFunc's message). */
function invalidName(name: string, why: string): Error {
  return badRequest(`Name parameter invalid: ${JSON.stringify(name)}: ${why}`);
}

/** What a URL addresses, undefined when it is no resource URL (404); throws the 400 of a malformed one. */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segments = pathname.split('/').filter((s) => s !== '').map(decodeSegment);
  const gv = splitGroupVersion(segments);
  if (gv === undefined || gv.rest.length === 0) return undefined;
  let rest = gv.rest;
  const watchPrefix = rest[0] === 'watch';
  if (watchPrefix) rest = rest.slice(1);

  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const type = typeByPath(gv.group, gv.version, rest[2] ?? '');
    if (type?.namespaced) {
      if (rest.length > 5) return undefined;
      return { type, namespace: rest[1], name: checkedName(rest[3]), subresource: rest[4], watchPrefix };
    }
  }
  const type = typeByPath(gv.group, gv.version, rest[0] ?? '');
  if (type === undefined || rest.length > 3) return undefined;
  // A namespaced type addressed without a namespace only has the all-namespaces collection.
  if (type.namespaced && rest.length > 1) return undefined;
  return { type, name: checkedName(rest[1]), subresource: rest[2], watchPrefix };
}

/**
 * A name from the URL, refused as the API server refuses it when it contains `%` (from `%25`). A
 * `/` (from `%2F`) is left to the lookup, which finds nothing: a real server splits the decoded
 * path there and finds no such URL either, so both answer 404.
 */
function checkedName(name: string | undefined): string | undefined {
  if (name?.includes('%')) throw invalidName(name, "may not contain '%'");
  return name;
}

/** The verb as RBAC and the API server's metrics name it. */
export function verbOf(method: string, path: ResourcePath, watchParam: string | null): Verb | undefined {
  const isWatch = path.watchPrefix || watchParam === 'true' || watchParam === '1';
  switch (method) {
    case 'GET':
      if (path.name === undefined) return isWatch ? 'watch' : 'list';
      return isWatch ? 'watch' : 'get';
    case 'POST':
      return path.name === undefined || path.subresource !== undefined ? 'create' : undefined;
    case 'PUT':
      return path.name === undefined ? undefined : 'update';
    case 'PATCH':
      return path.name === undefined ? undefined : 'patch';
    case 'DELETE':
      if (path.name !== undefined) return 'delete';
      if (!path.type.deleteCollection) return undefined;
      // The all-namespaces URL of a namespaced type only lists and watches: it must not wipe every namespace.
      return path.type.namespaced && path.namespace === undefined ? undefined : 'deletecollection';
    default:
      return undefined;
  }
}
