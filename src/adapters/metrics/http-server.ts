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
}

export interface RunningHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export function parseListenAddress(addr: string): { host: string; port: number } {
  const idx = addr.lastIndexOf(':');
  const host = idx > 0 ? addr.slice(0, idx).replace(/^\[|\]$/g, '') : '0.0.0.0';
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
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
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
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
