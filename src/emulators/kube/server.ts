/**
 * The HTTP front of the emulator: bearer-token authentication (401 like a real server), the
 * simulated outage (`pause()`: every request gets 503 and open watches are cut, while the port
 * stays bound so the URL in kubeconfigs stays valid), the public OIDC discovery endpoints, the
 * discovery and OpenAPI documents, and dispatch of resource URLs to the handlers with counting.
 */
import { createServer as createHttpServer } from 'node:http';
import { createSecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server, Socket } from 'node:net';
import { mediaType, parseBody } from './body.js';
import type { RequestCounters } from './counters.js';
import type { Throttles } from './throttles.js';
import { apiGroupDocument, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import { warningValue } from './field-validation.js';
import { handleResource } from './handlers.js';
import type { ApiRequest, ApiResponse } from './http-exchange.js';
import type { HandlerDeps } from './handlers.js';
import { openApiV3Document, openApiV3Index } from './openapi.js';
import { parseResourcePath, verbOf } from './routes.js';
import type { ResourcePath } from './routes.js';
import type { ResourceType } from './resources.js';
import { badRequest, methodNotAllowed, pathNotFound, requestEntityTooLarge, toStatus, tooManyRequests, unauthorized, unavailable, unsupportedBodyType } from './status.js';
import type { StatusContext } from './status.js';
import { API_AUDIENCE } from './tokens.js';

export interface KubeApiServerOptions extends HandlerDeps {
  counters: RequestCounters;
  /** Injected 429 refusals (emulator.throttle). */
  throttles: Throttles;
  /** The static bearer token of the kubeconfig user. */
  token: string;
  /** Serve HTTPS with this certificate; plain HTTP when absent. */
  tls?: { certPem: string; keyPem: string };
  /**
   * Over TLS, offer HTTP/2 as well as HTTP/1.1 (ALPN), as a real API server does; false serves
   * HTTP/1.1 only, like a server behind a proxy that does not speak HTTP/2.
   * @default true
   */
  http2?: boolean;
}

function sendJson(res: ApiResponse, code: number, body: unknown, contentType = 'application/json'): void {
  // Bytes, not a string: over HTTP/1.1 node sends the head with a string body in the body's
  // encoding, which would re-encode a Warning header already in UTF-8 (warningValue).
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': bytes.length });
  res.end(bytes);
}

/** The most a request body may hold: the API server's default MaxRequestBodyBytes, 3 MiB. */
export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

/**
 * The body, or undefined when it is longer than the API server takes. The rest of a long body is
 * read and dropped, not kept, so one client cannot grow the emulator's memory without bound, and
 * the connection stays usable for the 413.
 */
function readBody(req: ApiRequest): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size > MAX_REQUEST_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class KubeApiServer {
  readonly #deps: KubeApiServerOptions;
  readonly #server: Server;
  /** Open connections, so `close()` can end them: the HTTP/2 server has no `closeAllConnections`. */
  readonly #sockets = new Set<Socket>();
  #paused = false;

  constructor(options: KubeApiServerOptions) {
    this.#deps = options;
    const listener = (req: ApiRequest, res: ApiResponse): void => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, toStatus(err));
        else res.end();
      });
    };
    const tls = options.tls;
    if (tls === undefined) this.#server = createHttpServer(listener);
    else if (options.http2 === false) this.#server = createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, listener);
    else this.#server = createSecureServer({ cert: tls.certPem, key: tls.keyPem, allowHTTP1: true }, listener);
    this.#server.on('connection', (socket: Socket) => {
      options.counters.recordConnection();
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  pause(): void {
    this.#paused = true;
    this.#deps.streams.closeAll();
  }

  resume(): void {
    this.#paused = false;
  }

  async close(): Promise<void> {
    this.#deps.streams.closeAll();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
  }

  #authenticated(req: ApiRequest): boolean {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return false;
    const presented = match[1] ?? '';
    // Like a real API server, service account tokens minted here are accepted too (no RBAC).
    return presented === this.#deps.token || this.#deps.issuer.verify(presented, API_AUDIENCE) !== undefined;
  }

  async #handle(req: ApiRequest, res: ApiResponse): Promise<void> {
    if (this.#paused) return sendJson(res, 503, toStatus(unavailable()));
    const url = requestTarget(req.url ?? '/');
    if (url === undefined) return sendJson(res, 400, toStatus(badRequest(`invalid URI for request: ${JSON.stringify(req.url)}`)));
    if (this.#servePublic(url.pathname, res)) return;
    if (!this.#authenticated(req)) return sendJson(res, 401, toStatus(unauthorized()));
    if (req.method === 'GET' && this.#serveDiscovery(url.pathname, req, res)) return;

    let path: ResourcePath | undefined;
    try {
      path = parseResourcePath(url.pathname);
    } catch (err) {
      const status = toStatus(err);
      return sendJson(res, status.code, status);
    }
    if (path === undefined) return sendJson(res, 404, toStatus(pathNotFound()));
    const verb = verbOf(req.method ?? 'GET', path, url.searchParams.get('watch'));
    const context: StatusContext = { type: path.type, ...(path.name === undefined ? {} : { name: path.name }) };
    if (verb === undefined) return sendJson(res, 405, toStatus(methodNotAllowed(), context));
    const resource = path.subresource === undefined ? path.type.plural : `${path.type.plural}/${path.subresource}`;
    this.#deps.counters.record(verb, resource);
    const retryAfter = this.#deps.throttles.take(verb, resource);
    if (retryAfter !== undefined) {
      res.setHeader('Retry-After', String(retryAfter));
      return sendJson(res, 429, toStatus(tooManyRequests(retryAfter)));
    }
    // A deprecated CRD version is served with the API server's deprecation warning (kubectl prints it).
    if (path.type.deprecation !== undefined) res.setHeader('Warning', warningValue(path.type.deprecation));

    const raw = req.method === 'GET' ? Buffer.alloc(0) : await readBody(req);
    if (raw === undefined) return sendJson(res, 413, toStatus(requestEntityTooLarge(MAX_REQUEST_BODY_BYTES)));
    try {
      const contentType = mediaType(req.headers['content-type']);
      // A POST or PUT body must be a format the decoder knows (none given means JSON); PATCH types are the patch's business.
      if ((verb === 'create' || verb === 'update') && contentType !== '' && !decodable(path.type, contentType)) throw unsupportedBodyType(path.type);
      const result = handleResource(this.#deps, { path, verb, query: url.searchParams, contentType, body: parseBody(raw, contentType), res });
      if (result !== 'streamed') sendJson(res, result.code, result.body);
    } catch (err) {
      const status = toStatus(err, nameContext(context, path, raw));
      if (!res.headersSent) sendJson(res, status.code, status);
      else res.end();
    }
  }

  /** Endpoints a real cluster serves without credentials: health and service account issuer discovery. */
  #servePublic(pathname: string, res: ApiResponse): boolean {
    switch (pathname) {
      case '/.well-known/openid-configuration':
        sendJson(res, 200, this.#deps.issuer.openIdConfiguration());
        return true;
      case '/openid/v1/jwks':
        sendJson(res, 200, this.#deps.issuer.jwks(), 'application/jwk-set+json');
        return true;
      case '/healthz':
      case '/livez':
      case '/readyz':
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
        return true;
      case '/version':
        sendJson(res, 200, versionInfo());
        return true;
      default:
        return false;
    }
  }

  #serveDiscovery(pathname: string, req: ApiRequest, res: ApiResponse): boolean {
    const trimmed = pathname.replace(/\/+$/, '');
    const segments = trimmed.split('/').filter((s) => s !== '');
    let body: Record<string, unknown> | undefined;
    if (trimmed === '/api') body = apiVersions(req.headers.host ?? authority(req) ?? '127.0.0.1');
    else if (trimmed === '/apis') body = apiGroupList();
    else if (segments[0] === 'api' && segments.length === 2) body = apiResourceList('', segments[1] ?? '');
    else if (segments[0] === 'apis' && segments.length === 2) body = apiGroupDocument(segments[1] ?? '');
    else if (segments[0] === 'apis' && segments.length === 3) body = apiResourceList(segments[1] ?? '', segments[2] ?? '');
    else if (trimmed === '/openapi/v3') body = openApiV3Index();
    else if (trimmed.startsWith('/openapi/v3/')) body = openApiV3Document(trimmed.slice('/openapi/v3/'.length));
    else return false;
    if (body === undefined) sendJson(res, 404, toStatus(pathNotFound()));
    else sendJson(res, 200, body);
    return true;
  }
}

/**
 * The path (still %-escaped) and query of a request target, as the client sent them. Not what
 * `new URL()` makes of it: that resolves dot segments, `%2e%2e` included, so
 * `DELETE /api/v1/namespaces/ns/secrets/%2e%2e` became a DELETE of the namespace, and it throws on a
 * target such as `//[`, which Go's request parser (and so a real API server) takes as a path.
 * An absolute-form target (`https://host/path`, as sent to a proxy) is cut to its path; one whose
 * authority does not parse, or a target of no form at all, is undefined: Go's "invalid URI for
 * request" 400.
 */
export function requestTarget(target: string): { pathname: string; searchParams: URLSearchParams } | undefined {
  let rest = target;
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(target);
  if (absolute !== null) {
    try {
      new URL(absolute[0]);
    } catch {
      return undefined;
    }
    rest = target.slice(absolute[0].length);
    if (!rest.startsWith('/')) rest = `/${rest}`;
  }
  // `*` (asterisk-form) parses too, as a path nothing is served at.
  if (!rest.startsWith('/') && rest !== '*') return undefined;
  // A fragment is never sent on purpose; like `new URL`, ignore it rather than route on it.
  const [beforeFragment = ''] = rest.split('#', 1);
  const queryAt = beforeFragment.indexOf('?');
  const pathname = queryAt < 0 ? beforeFragment : beforeFragment.slice(0, queryAt);
  return { pathname, searchParams: new URLSearchParams(queryAt < 0 ? '' : beforeFragment.slice(queryAt + 1)) };
}

function decodable(type: ResourceType, contentType: string): boolean {
  return contentType === 'application/json' || contentType === 'application/yaml' || (type.builtin && contentType === 'application/vnd.kubernetes.protobuf');
}

/** For a create, the Status names the object from the body (the URL has no name). */
function nameContext(context: StatusContext, path: ResourcePath, raw: Buffer): StatusContext {
  if (path.name !== undefined || raw.length === 0) return context;
  try {
    const name = (JSON.parse(raw.toString('utf8')) as { metadata?: { name?: unknown } }).metadata?.name;
    return typeof name === 'string' ? { ...context, name } : context;
  } catch {
    return context;
  }
}

/** HTTP/2 carries the host as the `:authority` pseudo-header, not as `Host`. */
function authority(req: ApiRequest): string | undefined {
  const value = req.headers[':authority'];
  return typeof value === 'string' ? value : undefined;
}
