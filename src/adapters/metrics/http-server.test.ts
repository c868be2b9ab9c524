import { get } from 'node:http';
import { once } from 'node:events';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseListenAddress, startHttpServer } from './http-server.js';
import type { RunningHttpServer } from './http-server.js';

const hasIpv6Loopback = Object.values(networkInterfaces()).some((addrs) => addrs?.some((a) => a.internal && a.family === 'IPv6' && a.address === '::1'));

function healthz(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host, port, path: '/healthz' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('parseListenAddress', () => {
  it("leaves the host out when Go's address has none (every address, both families)", () => {
    expect(parseListenAddress(':8095')).toEqual({ host: undefined, port: 8095 });
    expect(parseListenAddress('8095')).toEqual({ host: undefined, port: 8095 });
  });

  it('keeps an explicit host as given, brackets removed from an IPv6 one', () => {
    expect(parseListenAddress('127.0.0.1:9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListenAddress('0.0.0.0:9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseListenAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
  });
});

describe('startHttpServer on an address without a host', () => {
  let server: RunningHttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const start = async (): Promise<RunningHttpServer> => {
    server = await startHttpServer(':0', new Registry(), { ready: () => ({ ready: true, checks: {} }), live: () => ({ live: true, checks: {} }) });
    return server;
  };

  it('answers on IPv4', async () => {
    const { port } = await start();
    expect(await healthz('127.0.0.1', port)).toBe(200);
  });

  // An IPv6 single-stack pod has only an IPv6 address, where kubelet's probes arrive.
  it.skipIf(!hasIpv6Loopback)('answers on IPv6 too (skipped when this machine has no IPv6 loopback ::1)', async () => {
    const { port } = await start();
    expect(await healthz('::1', port)).toBe(200);
    expect(await healthz('127.0.0.1', port)).toBe(200);
  });
});

describe('closing the HTTP server', () => {
  it('finishes although a client holds a connection that sent nothing or half its headers', async () => {
    const server = await startHttpServer('127.0.0.1:0', new Registry(), { ready: () => ({ ready: true, checks: {} }), live: () => ({ live: true, checks: {} }) });
    const silent = connect({ host: '127.0.0.1', port: server.port });
    const halfHeaders = connect({ host: '127.0.0.1', port: server.port });
    await Promise.all([once(silent, 'connect'), once(halfHeaders, 'connect')]);
    // The server resets them; that is the point, not a failure of the test.
    for (const socket of [silent, halfHeaders]) socket.on('error', () => undefined);
    halfHeaders.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    // Both sockets are closed by the server, which is how the test knows close() did not just return early.
    const closed = Promise.all([silent, halfHeaders].map((socket) => new Promise((resolve) => socket.on('close', resolve))));
    await server.close();
    await closed;
    expect(silent.destroyed && halfHeaders.destroyed).toBe(true);
  });
});
