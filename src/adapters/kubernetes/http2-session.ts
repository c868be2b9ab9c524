/**
 * One HTTP/2 connection to an API server, and the exchange of one request on it.
 *
 * The session checks what the handshake agreed: a server that does not select `h2` by ALPN (an
 * HTTP/1.1-only proxy) rejects with `Http2NotOffered`, and the transport goes back to HTTP/1.1 for
 * that origin. A connection that goes quiet while requests wait on it is pinged, and dropped when
 * the ping goes unanswered, as client-go's HTTP/2 health check does (ReadIdleTimeout 30 s,
 * PingTimeout 15 s): otherwise a half-dead connection would hold every API call of the node.
 */
import { connect, constants } from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders, SecureClientSessionOptions } from 'node:http2';
import type { AgentOptions } from 'node:https';
import { ResponseContext, SelfDecodingBody } from '@kubernetes/client-node';
import type { RequestContext } from '@kubernetes/client-node';

/**
 * Streams one connection carries at once, as many as the HTTP/1.1 pool had sockets: a burst waits
 * here rather than in the API server's queues, and a loop turn meets at most this many answers.
 */
export const API_SERVER_STREAMS = 16;

export interface ApiServerSessionOptions {
  /** Streams in flight at once; the server's own SETTINGS_MAX_CONCURRENT_STREAMS when lower. @default API_SERVER_STREAMS */
  maxStreams?: number;
  /** Ping a connection with requests in flight that has been silent this long. @default 30000 */
  pingAfterMs?: number;
  /** Drop the connection when its ping is not answered within this. @default 15000 */
  pingTimeoutMs?: number;
}

/** The server finished the TLS handshake without choosing HTTP/2. */
export class Http2NotOffered extends Error {
  constructor(origin: string) {
    super(`${origin} does not offer HTTP/2`);
    this.name = 'Http2NotOffered';
  }
}

/** The server refused a stream before processing it (REFUSED_STREAM, or beyond a GOAWAY): safe to send again. */
export class StreamRefused extends Error {
  constructor() {
    super('the API server refused the stream before processing it');
    this.name = 'StreamRefused';
  }
}

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2) or carries as pseudo-headers. */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te']);

export class ApiServerSession {
  readonly #origin: string;
  readonly #session: ClientHttp2Session;
  readonly #ready: Promise<void>;
  readonly #pingAfterMs: number;
  readonly #pingTimeoutMs: number;
  readonly #health: NodeJS.Timeout;
  readonly #maxStreams: number;
  /** Requests waiting for a stream: node does not queue past the server's limit, it fails the stream. */
  readonly #waiting: Array<() => void> = [];
  #usable = true;
  #inFlight = 0;
  #lastHeardAt = Date.now();
  #pinging = false;

  constructor(origin: string, tls: AgentOptions, options: ApiServerSessionOptions = {}) {
    this.#origin = origin;
    this.#pingAfterMs = options.pingAfterMs ?? 30_000;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 15_000;
    this.#maxStreams = options.maxStreams ?? API_SERVER_STREAMS;
    this.#session = connect(origin, sessionTls(tls));
    // Ready once the handshake chose h2 and the server's SETTINGS (its stream limit) arrived.
    const settings = new Promise<void>((resolve, reject) => {
      this.#session.once('remoteSettings', () => resolve());
      this.#session.once('close', () => reject(new StreamRefused()));
    });
    settings.catch(() => undefined); // reported through `connected` when that fails first
    const connected = new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void => reject(refusedAlpn(err) ? new Http2NotOffered(origin) : err);
      this.#session.once('error', failed);
      this.#session.once('close', () => reject(new StreamRefused()));
      this.#session.once('connect', (session: ClientHttp2Session) => {
        this.#session.off('error', failed);
        if (session.alpnProtocol === 'h2') return resolve();
        this.#session.destroy();
        reject(new Http2NotOffered(origin));
      });
    });
    this.#ready = connected.then(() => settings);
    // Connected, the session holds the process only while requests are in flight (#take/#release).
    this.#ready.then(
      () => {
        if (this.#inFlight === 0) this.#session.unref();
      },
      () => undefined, // the rejection is the first send's to report
    );
    // Without a listener a session error would be thrown; the streams report it to their callers.
    this.#session.on('error', () => this.#retire());
    this.#session.on('goaway', () => this.#retire());
    this.#session.on('close', () => this.#retire());
    this.#health = setInterval(() => this.#checkHealth(), this.#pingAfterMs);
    this.#health.unref();
  }

  /** False once the connection failed, closed or was told to go away: the next request opens another. */
  get usable(): boolean {
    return this.#usable && !this.#session.closed && !this.#session.destroyed;
  }

  async send(request: RequestContext, url: URL, body: string | undefined): Promise<ResponseContext> {
    await this.#ready;
    await this.#stream();
    let stream: ClientHttp2Stream;
    try {
      stream = this.#open(request, url, body);
    } catch (err) {
      this.#release();
      throw err;
    }
    // The slot is held until the stream is done, body included: until then the session holds the process.
    stream.once('close', () => this.#release());
    return this.#exchange(stream, request.getSignal(), body);
  }

  close(): void {
    this.#retire();
    this.#session.close();
  }

  #limit(): number {
    const server = this.#session.remoteSettings.maxConcurrentStreams;
    return server === undefined || server <= 0 ? this.#maxStreams : Math.min(this.#maxStreams, server);
  }

  #stream(): Promise<void> {
    if (this.#inFlight < this.#limit()) {
      this.#take();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #take(): void {
    if (this.#inFlight === 0 && !this.#session.destroyed) this.#session.ref();
    this.#inFlight += 1;
  }

  #release(): void {
    this.#inFlight -= 1;
    while (this.#waiting.length > 0 && this.#inFlight < this.#limit()) {
      this.#take();
      this.#waiting.shift()?.();
    }
    if (this.#inFlight === 0 && !this.#session.destroyed) this.#session.unref();
  }

  /** Opens the request's stream; throws when it cannot be sent (StreamRefused: never sent, send again). */
  #open(request: RequestContext, url: URL, body: string | undefined): ClientHttp2Stream {
    // A request that waited while this connection went away was never sent: the transport resends it.
    if (this.#session.closed || this.#session.destroyed) throw new StreamRefused();
    if (request.getSignal()?.aborted === true) throw abortError();
    const headers: OutgoingHttpHeaders = { ':method': request.getHttpMethod(), ':path': `${url.pathname}${url.search}` };
    for (const [name, value] of Object.entries(request.getHeaders())) {
      const lower = name.toLowerCase();
      if (!NOT_FORWARDED.has(lower)) headers[lower] = value;
    }
    return this.#session.request(headers, { endStream: body === undefined });
  }

  #exchange(stream: ClientHttp2Stream, signal: AbortSignal | undefined, body: string | undefined): Promise<ResponseContext> {
    return new Promise<ResponseContext>((resolve, reject) => {
      let answered = false;
      const onAbort = (): void => {
        stream.close(constants.NGHTTP2_CANCEL);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal?.removeEventListener('abort', onAbort));
      stream.once('error', (err: Error) => reject(answered ? err : this.#beforeAnswer(stream, err)));
      stream.once('close', () => {
        // Closed with no response and no error event: a reset the server sent (NGHTTP2_NO_ERROR included).
        if (!answered) reject(this.#beforeAnswer(stream, new Error(`the API server closed the stream (code ${stream.rstCode ?? 'none'})`)));
      });
      stream.once('response', (responseHeaders: IncomingHttpHeaders) => {
        answered = true;
        this.#heard();
        const status = Number(responseHeaders[':status']);
        const data = readAll(stream, () => this.#heard());
        data.catch(() => undefined); // reported to whoever reads the body
        resolve(new ResponseContext(status, flatHeaders(responseHeaders), new SelfDecodingBody(data)));
      });
      if (body !== undefined) stream.end(body);
    });
  }

  /** A stream that ended before its response: refused (safe to resend) or failed. */
  #beforeAnswer(stream: ClientHttp2Stream, err: Error): Error {
    return stream.rstCode === constants.NGHTTP2_REFUSED_STREAM ? new StreamRefused() : err;
  }

  #heard(): void {
    this.#lastHeardAt = Date.now();
  }

  #checkHealth(): void {
    if (this.#inFlight === 0 || this.#pinging || this.#session.destroyed) return;
    if (Date.now() - this.#lastHeardAt < this.#pingAfterMs) return;
    this.#pinging = true;
    const timeout = setTimeout(() => this.#drop(), this.#pingTimeoutMs);
    const sent = this.#session.ping((err) => {
      clearTimeout(timeout);
      this.#pinging = false;
      if (err !== null) this.#drop();
      else this.#heard();
    });
    if (!sent) {
      clearTimeout(timeout);
      this.#pinging = false;
    }
  }

  #drop(): void {
    this.#pinging = false;
    const err = Object.assign(new Error(`${this.#origin} did not answer an HTTP/2 ping within ${this.#pingTimeoutMs} ms`), { code: 'ETIMEDOUT' });
    this.#session.destroy(err);
  }

  #retire(): void {
    this.#usable = false;
    clearInterval(this.#health);
  }
}

function sessionTls(o: AgentOptions): SecureClientSessionOptions {
  const tls: SecureClientSessionOptions = {};
  if (o.ca !== undefined) tls.ca = o.ca;
  if (o.cert !== undefined) tls.cert = o.cert;
  if (o.key !== undefined) tls.key = o.key;
  if (o.pfx !== undefined) tls.pfx = o.pfx;
  if (o.passphrase !== undefined) tls.passphrase = o.passphrase;
  if (o.servername !== undefined) tls.servername = o.servername;
  if (o.rejectUnauthorized !== undefined) tls.rejectUnauthorized = o.rejectUnauthorized;
  return tls;
}

/** The TLS alert a server sends when none of the client's ALPN protocols is one it speaks. */
function refusedAlpn(err: Error): boolean {
  return (err as { code?: unknown }).code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL';
}

function abortError(): Error {
  const err = new Error('The operation was aborted.');
  err.name = 'AbortError';
  return err;
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function readAll(stream: ClientHttp2Stream, onChunk: () => void): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      onChunk();
    });
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}
