/**
 * One HTTP/2 connection to an API server, and the exchange of one request on it.
 *
 * It carries at most `maxStreams` requests at once (fewer when the server's SETTINGS say so: node
 * fails a stream past the server's limit instead of queuing it), holds the process only while a
 * stream is open, and is checked as client-go checks its connections (ReadIdleTimeout 30 s,
 * PingTimeout 15 s): a connection silent that long is pinged, and dropped when the ping goes
 * unanswered, so a half-dead connection cannot hold the node's API calls. A request the server
 * never processed (REFUSED_STREAM, or past a GOAWAY's last stream) fails with `StreamRefused`,
 * which the transport sends again on a new connection.
 */
import { connect, constants } from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, SecureClientSessionOptions } from 'node:http2';
import type { AgentOptions } from 'node:https';
import { ResponseContext, SelfDecodingBody } from '@kubernetes/client-node';
import type { RequestContext } from '@kubernetes/client-node';
import { http2Ready } from './http2-handshake.js';
import { abortError, codedError, flatHeaders, readBody, requestHeaders } from './http2-messages.js';

/**
 * Streams one connection carries at once, as many as the HTTP/1.1 pool had sockets: a burst waits
 * here rather than in the API server's queues, and a loop turn meets at most this many answers.
 */
export const API_SERVER_STREAMS = 16;

export interface ApiServerSessionOptions {
  /** Streams in flight at once; the server's own SETTINGS_MAX_CONCURRENT_STREAMS when lower. @default API_SERVER_STREAMS */
  maxStreams?: number;
  /** Ping a connection that has been silent this long. @default 30000 */
  pingAfterMs?: number;
  /** Drop the connection when its ping is not answered within this. @default 15000 */
  pingTimeoutMs?: number;
  /** Give up on a new connection whose TLS and HTTP/2 handshake takes longer. @default 10000 */
  connectTimeoutMs?: number;
}

/** The server did not process the request (REFUSED_STREAM, past a GOAWAY, or a connection gone before it was sent). */
export class StreamRefused extends Error {
  constructor() {
    super('the API server refused the stream before processing it');
    this.name = 'StreamRefused';
  }
}

export class ApiServerSession {
  readonly #origin: string;
  readonly #session: ClientHttp2Session;
  readonly #ready: Promise<void>;
  readonly #pingAfterMs: number;
  readonly #pingTimeoutMs: number;
  readonly #health: NodeJS.Timeout;
  readonly #maxStreams: number;
  /** Requests waiting for a stream slot. */
  readonly #waiting: Array<() => void> = [];
  /** False once the server said GOAWAY or the connection failed: new requests go to a new connection. */
  #acceptsNew = true;
  /** The last stream a GOAWAY said the server will process; those above it were never seen. */
  #goawayLastStream: number | undefined;
  #inFlight = 0;
  #lastHeardAt = Date.now();
  #pinging = false;

  constructor(origin: string, tls: AgentOptions, options: ApiServerSessionOptions = {}) {
    this.#origin = origin;
    this.#pingAfterMs = options.pingAfterMs ?? 30_000;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 15_000;
    this.#maxStreams = options.maxStreams ?? API_SERVER_STREAMS;
    this.#session = connect(origin, sessionTls(tls));
    this.#ready = http2Ready(this.#session, origin, options.connectTimeoutMs ?? 10_000);
    // Connected, the session holds the process only while requests are in flight (#take/#release).
    this.#ready.then(
      () => {
        if (this.#inFlight === 0 && !this.#session.destroyed) this.#session.unref();
      },
      () => undefined, // the rejection is the first send's to report
    );
    // Without a listener a session error would be thrown; the streams report it to their callers.
    this.#session.on('error', () => (this.#acceptsNew = false));
    // A TLS alert after the handshake reaches only the socket: end the session so its streams fail.
    this.#session.socket.on('error', (err: Error) => {
      if (!this.#session.destroyed) this.#session.destroy(err);
    });
    this.#session.on('goaway', (_code: number, lastStreamId: number) => {
      this.#acceptsNew = false;
      this.#goawayLastStream = lastStreamId;
    });
    this.#session.on('close', () => {
      this.#acceptsNew = false;
      clearInterval(this.#health);
    });
    this.#health = setInterval(() => this.#checkHealth(), this.#pingAfterMs);
    this.#health.unref();
  }

  /** False once the connection failed, closed or was told to go away: the next request opens another. */
  get usable(): boolean {
    return this.#acceptsNew && !this.#session.closed && !this.#session.destroyed;
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

  /** Ends the connection once the requests on it are answered; new requests go elsewhere. */
  close(): void {
    this.#acceptsNew = false;
    if (!this.#session.destroyed) this.#session.close();
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
    return this.#session.request(requestHeaders(request, url), { endStream: body === undefined });
  }

  #exchange(stream: ClientHttp2Stream, signal: AbortSignal | undefined, body: string | undefined): Promise<ResponseContext> {
    return new Promise<ResponseContext>((resolve, reject) => {
      let answered = false;
      const onAbort = (): void => {
        stream.close(constants.NGHTTP2_CANCEL);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.once('error', (err: Error) => reject(answered ? err : this.#beforeAnswer(stream, err)));
      stream.once('close', () => {
        signal?.removeEventListener('abort', onAbort);
        // Closed with no response and no error event: a reset the server sent (NGHTTP2_NO_ERROR included).
        if (!answered) reject(this.#beforeAnswer(stream, codedError(`the API server closed the stream (HTTP/2 code ${stream.rstCode ?? 'none'})`, 'ECONNRESET')));
      });
      stream.once('response', (responseHeaders: IncomingHttpHeaders) => {
        answered = true;
        this.#heard();
        const data = readBody(stream, () => this.#heard());
        data.catch(() => undefined); // reported to whoever reads the body
        resolve(new ResponseContext(Number(responseHeaders[':status']), flatHeaders(responseHeaders), new SelfDecodingBody(data)));
      });
      if (body !== undefined) stream.end(body);
    });
  }

  /** A stream that ended before its response: one the server never processed can be sent again. */
  #beforeAnswer(stream: ClientHttp2Stream, err: Error): Error {
    if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) return new StreamRefused();
    const last = this.#goawayLastStream;
    if (last !== undefined && (stream.id === undefined || stream.id > last)) return new StreamRefused();
    return err;
  }

  #heard(): void {
    this.#lastHeardAt = Date.now();
  }

  /** Idle or busy, a silent connection is pinged: one that died while idle is found before the next burst. */
  #checkHealth(): void {
    if (this.#pinging || this.#session.destroyed) return;
    const silentMs = Date.now() - this.#lastHeardAt;
    if (this.#closing()) {
      // Closing after a GOAWAY, it still owes its last answers, but node cancels pings on a closing
      // session: give those streams the ping's whole budget of silence instead.
      const budgetMs = this.#pingAfterMs + this.#pingTimeoutMs;
      if (this.#inFlight > 0 && silentMs >= budgetMs) this.#drop(`${this.#origin} sent nothing for ${budgetMs} ms while closing after a GOAWAY`);
      return;
    }
    if (silentMs < this.#pingAfterMs) return;
    this.#pinging = true;
    const unanswered = `${this.#origin} did not answer an HTTP/2 ping within ${this.#pingTimeoutMs} ms`;
    const timeout = setTimeout(() => this.#drop(unanswered), this.#pingTimeoutMs);
    timeout.unref();
    const sent = this.#session.ping((err) => {
      clearTimeout(timeout);
      this.#pinging = false;
      if (err === null) this.#heard();
      // Cancelled because the session began closing (a GOAWAY) is not a dead connection.
      else if (!this.#closing()) this.#drop(unanswered);
    });
    if (!sent) {
      clearTimeout(timeout);
      this.#pinging = false;
    }
  }

  /** Told to go away (node closes the session a moment after the GOAWAY event) or closed by us. */
  #closing(): boolean {
    return this.#goawayLastStream !== undefined || this.#session.closed;
  }

  #drop(message: string): void {
    this.#pinging = false;
    this.#acceptsNew = false;
    if (!this.#session.destroyed) this.#session.destroy(codedError(message, 'ETIMEDOUT'));
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
