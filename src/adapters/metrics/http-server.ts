/**
 * The agent's plain-HTTP side door: /metrics for Prometheus, /healthz (the process is alive and its
 * event loop turns) and /readyz (both doors bound, event log replayed, API server answered).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthSource {
  ready(): { ready: boolean; checks: Record<string, boolean> };
  /** What /healthz (liveness) reports: false asks kubelet to restart the container. */
  live(): { live: boolean; checks: Record<string, boolean> };
}

export interface RunningHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Go's `host:port` (`:8095`, `127.0.0.1:8095`, `[::1]:8095`). An empty host means every address, as
 * in Go: `host` is then undefined, and Node binds `::` dual-stack (IPv4 too), or 0.0.0.0 where the
 * node has no IPv6. Binding 0.0.0.0 instead would leave an IPv6 single-stack pod's IP unanswered,
 * and kubelet's probes with it.
 */
export function parseListenAddress(addr: string): { host: string | undefined; port: number } {
  const idx = addr.lastIndexOf(':');
  const host = idx > 0 ? addr.slice(0, idx).replace(/^\[|\]$/g, '') : undefined;
  const port = Number(idx >= 0 ? addr.slice(idx + 1) : addr);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid listen address "${addr}"`);
  return { host, port };
}

export async function startHttpServer(addr: string, registry: Registry, health: HealthSource): Promise<RunningHttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        })
        .catch(() => {
          res.writeHead(500);
          res.end('metrics unavailable\n');
        });
      return;
    }
    if (path === '/healthz') {
      const state = health.live();
      if (state.live) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok\n');
      } else {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(state) + '\n');
      }
      return;
    }
    if (path === '/readyz') {
      const state = health.ready();
      res.writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(state) + '\n');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  const { host, port } = parseListenAddress(addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(host === undefined ? {} : { host }) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Once listening, an 'error' is a failed accept (EMFILE under fd pressure): the server goes on
  // listening, and an unheard 'error' would end the whole agent over one lost scrape.
  server.on('error', () => undefined);
  return {
    port: (server.address() as AddressInfo).port,
    // close() alone waits for every open connection, and one that sent nothing or half its headers
    // (a TCP probe, a scrape cut off mid-request) is never timed out after it: the agent's drain
    // would hang until serve's backstop killed it as "drain hung". Cut them.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
