/**
 * Builds the Kubernetes client configuration the way a node agent does: an explicit kubeconfig file
 * (local emulator, development), else the in-cluster service account.
 *
 * Connection reuse: @kubernetes/client-node 1.x builds a new https.Agent for every request, so every
 * API call opens a new TCP connection and does a full TLS handshake (a new secure context parsing
 * the CA each time). In the density benchmark that was ~1 s of the agent's CPU for the ~800 calls of
 * a 737-pod burst (SecretProviderClassPodStatus writes, service account reads), and every one of
 * them a new connection on the API server. `PooledKubeConfig` hands the client one keep-alive agent
 * per distinct TLS configuration instead, with a bounded number of sockets so a burst queues here
 * rather than opening hundreds of connections. Proxied clusters keep the library's own agents.
 *
 * The API clients it makes send over HTTP/2 where the server offers it (http2-transport.ts), with
 * that pooled agent naming the TLS configuration; its sockets carry the calls that stay on HTTP/1.1
 * (a server without HTTP/2, `--kube-api-http2 false`). Informer watches are the library's own
 * long-lived requests, outside both.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AgentOptions } from 'node:https';
import { IsomorphicFetchHttpLibrary, KubeConfig, ServerConfiguration, createConfiguration, wrapHttpLibrary } from '@kubernetes/client-node';
import type { ApiConstructor, ApiType, PromiseHttpLibrary, RequestContext } from '@kubernetes/client-node';
import { invalidArgument } from '../../core/errors.js';
import { Http2Transport } from './http2-transport.js';
import { RetryAfterHttpLibrary } from './retry-after-library.js';

/** Concurrent connections to the API server per TLS configuration; more requests wait for a socket. */
export const API_SERVER_SOCKETS = 16;

export class PooledKubeConfig extends KubeConfig {
  readonly #agents = new Map<string, HttpAgent>();
  /** The TLS fields of the last request and their key: nearly every request repeats them. */
  #last: { parts: unknown[]; key: string } | undefined;
  /** Undefined when the operator turned HTTP/2 off (`--kube-api-http2 false`). */
  readonly #http2: Http2Transport | undefined;
  /** The library's own HTTP/1.1 client, for what the HTTP/2 transport does not carry. */
  readonly #http1: PromiseHttpLibrary;

  constructor(options: { http2?: boolean } = {}) {
    super();
    const fetchLibrary = new IsomorphicFetchHttpLibrary();
    this.#http1 = { send: (request) => fetchLibrary.send(request).toPromise() };
    this.#http2 = options.http2 === false ? undefined : new Http2Transport(fetchLibrary);
  }

  /**
   * The library's client, sending through the HTTP/2 transport unless that is off, or the cluster
   * proxied or plain http; either way a throttled answer is retried as the server asks
   * (retry-after-library.ts).
   */
  override makeApiClient<T extends ApiType>(apiClientType: ApiConstructor<T>): T {
    const cluster = this.getCurrentCluster();
    if (cluster === null) return super.makeApiClient(apiClientType);
    const overHttp2 = cluster.proxyUrl === undefined && cluster.server.startsWith('https:');
    const transport = overHttp2 ? (this.#http2 ?? this.#http1) : this.#http1;
    const config = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: this },
      httpApi: wrapHttpLibrary(new RetryAfterHttpLibrary(transport)),
    });
    return new apiClientType(config);
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    if (this.getCurrentCluster()?.proxyUrl !== undefined) return;
    const fresh = context.getAgent();
    if (fresh === undefined) return;
    context.setAgent(this.#pooled(fresh));
  }

  /** The keep-alive agent for the TLS options the library just chose (CA, client cert, server name…). */
  #pooled(fresh: HttpAgent): HttpAgent {
    const tls = fresh instanceof HttpsAgent;
    const options = (fresh as HttpAgent & { options: AgentOptions }).options;
    const key = tls ? this.#keyOf(options) : 'http';
    let agent = this.#agents.get(key);
    if (agent === undefined) {
      const shared = { ...options, keepAlive: true, maxSockets: API_SERVER_SOCKETS };
      agent = tls ? new HttpsAgent(shared) : new HttpAgent(shared);
      this.#agents.set(key, agent);
    }
    return agent;
  }

  /**
   * The key of a TLS configuration. Hashing the CA and client certificate for every API call cost
   * ~50 ms of CPU per 800-call burst; comparing the fields with the last request's is a memcmp.
   */
  #keyOf(options: AgentOptions): string {
    const parts = tlsParts(options);
    if (this.#last !== undefined && parts.every((p, i) => sameValue(p, this.#last?.parts[i]))) return this.#last.key;
    const key = optionsKey(parts);
    this.#last = { parts, key };
    return key;
  }

  /** Closes the pooled connections (the agent's shutdown). */
  closeConnections(): void {
    this.#http2?.close();
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }
}

function tlsParts(o: AgentOptions): unknown[] {
  return [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.servername, o.rejectUnauthorized];
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return a === b;
}

function optionsKey(parts: unknown[]): string {
  const pick = (v: unknown): unknown => (Buffer.isBuffer(v) ? v.toString('base64') : Array.isArray(v) ? v.map(pick) : v);
  return createHash('sha256').update(JSON.stringify(parts.map(pick))).digest('hex');
}

export function loadKubeConfig(kubeconfigPath: string | undefined, options: { http2?: boolean } = {}): PooledKubeConfig {
  const kc = new PooledKubeConfig(options);
  if (kubeconfigPath === undefined || kubeconfigPath === '') {
    kc.loadFromCluster();
    return kc;
  }
  try {
    kc.loadFromFile(kubeconfigPath);
  } catch (e) {
    // The option's name, so `serve` can say which flag points at the unreadable file.
    const detail = (e as { code?: unknown }).code ?? (e instanceof Error ? e.message.split('\n')[0] : String(e));
    throw invalidArgument('InvalidOption', `options.kubeconfig: cannot load ${kubeconfigPath}: ${String(detail)}`, 'kubeconfig');
  }
  return kc;
}
