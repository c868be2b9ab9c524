/**
 * `limit`/`continue` paging of lists. The continue token is opaque to clients and built like the
 * API server's etcd store builds it (base64url JSON `{"v":"meta.k8s.io/v1","rv":…,"start":…}`): it
 * names the key (`<namespace>/<name>`) after the last item returned, not an offset, so objects
 * deleted or added before that key between two pages do not make the next page skip or repeat items.
 * Pages are read from the live store, not from a snapshot at `rv`.
 */
import { badRequest } from './status.js';

const TOKEN_VERSION = 'meta.k8s.io/v1';

interface ContinueToken {
  v: string;
  rv: number;
  /** The first key the next page may hold: the last returned key plus "\0", as etcd ranges take it. */
  start: string;
}

function invalidToken(why: string): Error {
  return badRequest(`invalid continue token: continue key is not valid: ${why}`);
}

function encodeToken(lastKey: string, resourceVersion: number): string {
  const token: ContinueToken = { v: TOKEN_VERSION, rv: resourceVersion, start: `${lastKey}\u0000` };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** The start key a `continue` parameter asks for; a token this server could not have issued is a 400. */
function decodeToken(text: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw invalidToken('illegal base64 data');
  let token: Partial<ContinueToken>;
  try {
    token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<ContinueToken>;
  } catch {
    throw invalidToken('the token is not JSON');
  }
  if (typeof token !== 'object' || token === null || token.v !== TOKEN_VERSION) throw invalidToken('server does not recognize this encoded version');
  if (typeof token.rv !== 'number' || !Number.isInteger(token.rv) || token.rv <= 0) throw invalidToken('incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof token.start !== 'string' || token.start === '') throw invalidToken('encoded start key empty (version meta.k8s.io/v1)');
  return token.start;
}

export interface Page<T> {
  items: T[];
  /** Set when more items follow. */
  continueToken?: string;
  remainingItemCount?: number;
}

/**
 * One page of `sorted` (ordered by `keyOf`, as the store lists): the items from the token's start
 * key on, at most `limit` of them when `limit` > 0.
 */
export function pageOf<T>(sorted: readonly T[], keyOf: (item: T) => string, options: { limit: number; continueToken: string; resourceVersion: number }): Page<T> {
  const start = options.continueToken === '' ? undefined : decodeToken(options.continueToken);
  const from = start === undefined ? sorted : sorted.filter((item) => keyOf(item) >= start);
  if (!(options.limit > 0) || from.length <= options.limit) return { items: [...from] };
  const items = from.slice(0, options.limit);
  const last = items[items.length - 1];
  return {
    items,
    ...(last === undefined ? {} : { continueToken: encodeToken(keyOf(last), Math.max(options.resourceVersion, 1)) }),
    remainingItemCount: from.length - items.length,
  };
}
