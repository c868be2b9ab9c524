/**
 * Watch streams: a chunked HTTP response of JSON lines `{"type":"ADDED|MODIFIED|DELETED","object":…}`.
 * A watch starts from a resourceVersion (replaying the store's history after it, or a 410 Expired
 * ERROR event when that history is gone) or, without one, from synthetic ADDED events for what
 * exists now. Like the API server, an object that stops matching the selector is reported DELETED
 * and one that starts matching ADDED, so informers' caches stay exact.
 */
import type { ApiResponse } from './http-exchange.js';
import type { ResourceType } from './resources.js';
import type { Selector } from './selectors.js';
import { badRequest, expired, resourceVersionTooLarge, toStatus } from './status.js';
import type { ObjectStore } from './store.js';
import type { KubeObject, StoreEvent } from './types.js';
import { inVersion } from './versions.js';

export interface WatchRequest {
  type: ResourceType;
  namespace?: string;
  selector: Selector;
  /** The `resourceVersion` query parameter: '' / '0' = from now with the current state as ADDED. */
  resourceVersion: string;
  timeoutSeconds?: number;
}

interface WireEvent {
  type: string;
  object: unknown;
}

/** How many bytes of events may wait for a watch client before the watch is closed. */
export const MAX_PENDING_WATCH_BYTES = 10 * 1024 * 1024;

/** The longest delay setTimeout takes (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Open watch streams, so a pause or stop can end them all (clients then re-list and re-watch). */
export class WatchStreams {
  readonly #open = new Set<() => void>();

  add(close: () => void): () => void {
    this.#open.add(close);
    return () => this.#open.delete(close);
  }

  size(): number {
    return this.#open.size;
  }

  closeAll(): void {
    for (const close of [...this.#open]) close();
  }
}

/** What a store event looks like through this watch's namespace and selector, if anything. */
function translate(event: StoreEvent, request: WatchRequest): WireEvent | undefined {
  if (event.typeId !== request.type.id) return undefined;
  const inScope = (o: KubeObject | undefined): boolean =>
    o !== undefined && (request.namespace === undefined || o.metadata.namespace === request.namespace) && request.selector.matches(o);
  const now = inScope(event.object);
  // Objects go out in the version the watch URL named (the store keeps the storage version).
  const object = inVersion(request.type, event.object);
  if (event.type !== 'MODIFIED') return now ? { type: event.type, object } : undefined;
  const before = inScope(event.previous);
  if (before && now) return { type: 'MODIFIED', object };
  if (now) return { type: 'ADDED', object };
  // Left the watch's scope: as the API server's cacher does, the object as the watcher last saw it
  // (it still matches the selector), stamped with this event's resourceVersion.
  if (before && event.previous !== undefined) {
    const last = inVersion(request.type, event.previous);
    return { type: 'DELETED', object: { ...last, metadata: { ...last.metadata, resourceVersion: String(event.resourceVersion) } } };
  }
  return undefined;
}

/** Serves one watch until the client goes away, the timeout passes, or `streams.closeAll()`. */
export function serveWatch(options: { store: ObjectStore; streams: WatchStreams; request: WatchRequest; res: ApiResponse }): void {
  const { store, streams, request, res } = options;
  const rvText = request.resourceVersion;
  const fromNow = rvText === '' || rvText === '0';
  const fromVersion = Number(rvText);
  if (!fromNow && (!Number.isInteger(fromVersion) || fromVersion < 0)) throw badRequest(`invalid resourceVersion "${rvText}"`);
  // Accepting it would stream events older than the version asked for, and an informer would never re-list.
  if (!fromNow && fromVersion > store.resourceVersion()) throw resourceVersionTooLarge(fromVersion, store.resourceVersion());

  // No Content-Length: HTTP/1.1 sends the stream chunked by itself; HTTP/2 has no Transfer-Encoding at all.
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  // Send the headers now: clients consider the watch established only once they arrive.
  res.flushHeaders?.();
  // A client that stops reading would otherwise make every later event pile up in memory (a real
  // API server drops a watcher whose buffer stays full). Over the limit, the watch is cut; what it
  // was sent up front (the current objects) does not count, only what piled up after it, so the
  // limit is set once that is written (and `close` exists).
  let pendingLimit = Number.POSITIVE_INFINITY;
  const send = (event: WireEvent): void => {
    if (res.writableEnded) return;
    res.write(`${JSON.stringify(event)}\n`);
    if (res.writableLength > pendingLimit) {
      close();
      // Ending politely would keep the unsent bytes queued behind a reader that is not reading.
      res.destroy();
    }
  };

  let backlog: WireEvent[];
  if (fromNow) {
    backlog = store
      .list(request.type, request.namespace)
      .filter((o) => request.selector.matches(o))
      .map((object) => ({ type: 'ADDED', object: inVersion(request.type, object) }));
  } else {
    const history = store.eventsSince(fromVersion);
    if (history === undefined) {
      send({ type: 'ERROR', object: toStatus(expired(fromVersion, store.compactedThrough())) });
      res.end();
      return;
    }
    backlog = history.map((e) => translate(e, request)).filter((e): e is WireEvent => e !== undefined);
  }

  // Subscribing and replaying happen in one synchronous step, so no event can fall in between.
  const unsubscribe = store.subscribe((event) => {
    const wire = translate(event, request);
    if (wire !== undefined) send(wire);
  });
  let timer: NodeJS.Timeout | undefined;
  const close = (): void => {
    unsubscribe();
    forget();
    if (timer !== undefined) clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  const forget = streams.add(close);
  for (const event of backlog) send(event);
  res.on('close', close);
  pendingLimit = res.writableLength + MAX_PENDING_WATCH_BYTES;
  // As on the API server, a negative timeout ends the watch at once and 0 means no timeout of the
  // client's; a timer past setTimeout's range would fire after 1 ms, so it is clamped instead.
  if (request.timeoutSeconds !== undefined && request.timeoutSeconds !== 0) {
    timer = setTimeout(close, Math.min(Math.max(request.timeoutSeconds * 1000, 0), MAX_TIMER_MS));
    timer.unref();
  }
}
