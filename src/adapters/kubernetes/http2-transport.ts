/**
 * The agent's API server calls over HTTP/2, as client-go makes them: one TLS connection per API
 * server and TLS configuration, every request a stream on it.
 *
 * Why: a 737-pod cold burst on the kubelet door makes ~800 API calls (mostly the
 * SecretProviderClassPodStatus creates upstream makes on every first mount) and a rotation cycle
 * 737 patches. Over HTTP/1.1 each call went through node-fetch, node's HTTP client and a TLS write
 * of its own; on one HTTP/2 session the frames of many streams leave in one write. In CPU profiles
 * of the density bench the API-client path costs about a third less (bench/README.md). The API
 * server keeps one connection per node instead of up to sixteen.
 *
 * Plugged in as @kubernetes/client-node's `HttpLibrary`, after the library applied authentication:
 * the request carries its Authorization header and the pooled https.Agent whose options hold the
 * CA, client certificate and server name. Anything this transport does not cover goes to the
 * library's own HTTP/1.1 client: plain http, a proxied cluster, a non-string body, and a server
 * that does not offer HTTP/2 (learnt once per origin, from ALPN).
 */
import { Agent as HttpsAgent } from 'node:https';
import type { AgentOptions } from 'node:https';
import type { HttpLibrary, PromiseHttpLibrary, RequestContext, ResponseContext } from '@kubernetes/client-node';
import { Http2NotOffered } from './http2-handshake.js';
import { codedError } from './http2-messages.js';
import { ApiServerSession, StreamRefused } from './http2-session.js';
import type { ApiServerSessionOptions } from './http2-session.js';

export class Http2Transport implements PromiseHttpLibrary {
  readonly #http1: HttpLibrary;
  readonly #options: ApiServerSessionOptions;
  /** Per origin, the session of the TLS configuration in use (a new CA or client certificate replaces it). */
  readonly #sessions = new Map<string, { agentId: number; session: ApiServerSession }>();
  readonly #agentIds = new WeakMap<HttpsAgent, number>();
  #nextAgentId = 1;
  #closed = false;
  /** Origins whose server answered the TLS handshake without HTTP/2. */
  readonly #http1Origins = new Set<string>();

  constructor(http1: HttpLibrary, options: ApiServerSessionOptions = {}) {
    this.#http1 = http1;
    this.#options = options;
  }

  async send(request: RequestContext): Promise<ResponseContext> {
    const agent = request.getAgent();
    const url = new URL(request.getUrl());
    const body = request.getBody();
    if (!(agent instanceof HttpsAgent) || url.protocol !== 'https:' || (body !== undefined && typeof body !== 'string') || this.#http1Origins.has(url.origin)) {
      return this.#http1.send(request).toPromise();
    }
    try {
      return await this.#sendOnSession(request, url, body, agent);
    } catch (err) {
      if (!(err instanceof Http2NotOffered)) throw err;
      this.#http1Origins.add(url.origin);
      return this.#http1.send(request).toPromise();
    }
  }

  /** A stream the server did not process (its limit, a GOAWAY, a connection gone) is sent once more, on a live session. */
  async #sendOnSession(request: RequestContext, url: URL, body: string | undefined, agent: HttpsAgent): Promise<ResponseContext> {
    try {
      return await this.#sessionFor(url.origin, agent).send(request, url, body);
    } catch (err) {
      if (!(err instanceof StreamRefused)) throw err;
      return this.#sessionFor(url.origin, agent).send(request, url, body);
    }
  }

  /** Ends every session once its requests are answered; any call after this fails (the agent's shutdown). */
  close(): void {
    this.#closed = true;
    for (const { session } of this.#sessions.values()) session.close();
    this.#sessions.clear();
  }

  #sessionFor(origin: string, agent: HttpsAgent): ApiServerSession {
    if (this.#closed) throw codedError('the API server connections are closed (the agent is shutting down)', 'ECONNRESET');
    // The pooled kubeconfig hands out one agent per TLS configuration, so the agent names it.
    let agentId = this.#agentIds.get(agent);
    if (agentId === undefined) {
      agentId = this.#nextAgentId++;
      this.#agentIds.set(agent, agentId);
    }
    const current = this.#sessions.get(origin);
    if (current !== undefined && current.agentId === agentId && current.session.usable) return current.session;
    // Gone, told to go away, or of a TLS configuration no longer in use: close it once its requests are answered.
    current?.session.close();
    const tls = (agent as HttpsAgent & { options: AgentOptions }).options;
    const session = new ApiServerSession(origin, tls, this.#options);
    this.#sessions.set(origin, { agentId, session });
    return session;
  }
}
