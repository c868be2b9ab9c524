import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants, createSecureServer } from 'node:http2';
import type { Http2SecureServer } from 'node:http2';
import { Agent as HttpsAgent } from 'node:https';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { API_SERVER_SOCKETS, loadKubeConfig } from '../../../src/adapters/kubernetes/kube-config.js';
import { kubeError } from '../../../src/adapters/kubernetes/kube-errors.js';
import { Http2Transport } from '../../../src/adapters/kubernetes/http2-transport.js';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';
import { selfSignedCertificate } from '../../../src/emulators/kube/x509.js';
import { REPO_ROOT as ROOT } from '../../support/paths.js';

/** What `promise` rejects with; fulfilling fails the test. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

interface EmulatorEnv {
  emulator: KubeEmulator;
  path: string;
}

/** A local API server (HTTP/2 offered or not) and its kubeconfig for the enclosing describe block. */
function emulatorPerSuite(http2: boolean): EmulatorEnv {
  const env = {} as EmulatorEnv;
  let dir = '';
  beforeAll(async () => {
    env.emulator = await startKubeEmulator({ http2 });
    dir = await mkdtemp(join(tmpdir(), 'secretlet-h2-'));
    env.path = join(dir, 'kubeconfig');
    await env.emulator.writeKubeconfig(env.path);
  });
  afterAll(async () => {
    await env.emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return env;
}

/** `n` concurrent reads through a fresh agent kubeconfig, counted from zero by the emulator. */
async function concurrentReads(env: EmulatorEnv, n: number, options: { http2?: boolean } = {}): Promise<string[]> {
  const kc = loadKubeConfig(env.path, options);
  env.emulator.counters.reset();
  const core = kc.makeApiClient(CoreV1Api);
  const answers = await Promise.all(Array.from({ length: n }, () => core.readNamespace({ name: 'default' })));
  kc.closeConnections();
  return answers.map((ns) => ns.metadata?.name ?? '');
}

describe('API calls over HTTP/2 against the local API server', () => {
  const env = emulatorPerSuite(true);

  it('sends a burst of 100 concurrent calls as streams of one connection', async () => {
    await concurrentReads(env, 100);
    expect(env.emulator.counters.total()).toBe(100);
    expect(env.emulator.counters.connections()).toBe(1);
  });

  it('with HTTP/2 turned off (--kube-api-http2 false) uses the HTTP/1.1 connection pool instead', async () => {
    await concurrentReads(env, 40, { http2: false });
    expect(env.emulator.counters.total()).toBe(40);
    expect(env.emulator.counters.connections()).toBeGreaterThan(1);
    expect(env.emulator.counters.connections()).toBeLessThanOrEqual(API_SERVER_SOCKETS);
  });

  it('writes objects and keeps the API server status and message of a failed call', async () => {
    const kc = loadKubeConfig(env.path);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'over-h2' } } });
    expect(env.emulator.get('v1', 'ServiceAccount', 'default', 'over-h2')?.metadata.name).toBe('over-h2');
    const err = kubeError(undefined, await rejection(core.readNamespace({ name: 'nope' })));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('namespaces "nope" not found');
    kc.closeConnections();
  });
});

describe('API calls to a server that offers only HTTP/1.1', () => {
  const env = emulatorPerSuite(false);

  it('go over the HTTP/1.1 connection pool, every one answered', async () => {
    expect(await concurrentReads(env, 40)).toEqual(Array(40).fill('default'));
    expect(env.emulator.counters.total()).toBe(40);
    // More than one connection: HTTP/1.1 carries one request at a time per connection.
    expect(env.emulator.counters.connections()).toBeGreaterThan(1);
    expect(env.emulator.counters.connections()).toBeLessThanOrEqual(API_SERVER_SOCKETS + 1); // + the refused HTTP/2 attempt
  });
});

describe('Http2Transport against a bare HTTP/2 server', () => {
  const cert = selfSignedCertificate({ commonName: 'h2-test', hosts: ['127.0.0.1'] });
  const agent = new HttpsAgent({ ca: cert.certPem });
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function listen(server: Server | Http2SecureServer): Promise<number> {
    const sockets = new Set<Socket>();
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    );
    return (server.address() as AddressInfo).port;
  }

  function get(port: number, signal?: AbortSignal): RequestContext {
    const request = new RequestContext(`https://127.0.0.1:${port}/api/v1/namespaces/default`, HttpMethod.GET);
    request.setAgent(agent);
    if (signal !== undefined) request.setSignal(signal);
    return request;
  }

  it('never has more streams open than the server allows; the rest wait and are answered', async () => {
    let open = 0;
    let peak = 0;
    const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem, settings: { maxConcurrentStreams: 3 } }, (_req, res) => {
      open += 1;
      peak = Math.max(peak, open);
      setImmediate(() => {
        open -= 1;
        res.end('{"kind":"Namespace"}');
      });
    });
    const port = await listen(server);
    const transport = new Http2Transport(new IsomorphicFetchHttpLibrary());
    const answers = await Promise.all(Array.from({ length: 30 }, () => transport.send(get(port))));
    expect(answers.map((a) => a.httpStatusCode)).toEqual(Array(30).fill(200));
    expect(await answers[0]?.body.text()).toBe('{"kind":"Namespace"}');
    expect(peak).toBe(3);
    transport.close();
  });

  it('resends on a new connection the calls a GOAWAY left unprocessed, as an API server with --goaway-chance sends', async () => {
    let connections = 0;
    const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem });
    server.on('session', () => (connections += 1));
    const held: Array<() => void> = [];
    server.on('stream', (stream) => {
      stream.on('error', () => undefined); // the calls past the GOAWAY are reset on this side too
      const answer = (): void => {
        stream.respond({ ':status': 200 });
        stream.end('{}');
      };
      if (connections > 1) return answer();
      held.push(answer);
      // The first connection: once three calls are open, tell the client to go away after the first.
      if (held.length === 3) {
        stream.session?.goaway(0, 1);
        held[0]?.();
      }
    });
    const port = await listen(server);
    const transport = new Http2Transport(new IsomorphicFetchHttpLibrary());
    const answers = await Promise.all(Array.from({ length: 3 }, () => transport.send(get(port))));
    expect(answers.map((a) => a.httpStatusCode)).toEqual([200, 200, 200]);
    expect(connections).toBe(2);
    transport.close();
  });

  /** The next call through `transport` fails with `code` and a message containing `text`. */
  async function expectCallFails(transport: Http2Transport, port: number, code: string, text: string): Promise<void> {
    const err = await rejection(transport.send(get(port)));
    expect(err).toMatchObject({ code });
    expect(String(err)).toContain(text);
  }

  /** A TCP relay to `port` that can stop passing bytes: a connection open but dead, as in a network partition. */
  async function relayTo(port: number): Promise<{ port: number; silence: (on: boolean) => void; connectionClosed: () => Promise<void> }> {
    let silent = false;
    let closed: Array<() => void> = [];
    const relay = createServer((client) => {
      const upstream = createConnection(port, '127.0.0.1');
      client.on('data', (d) => silent || upstream.write(d));
      upstream.on('data', (d) => silent || client.write(d));
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => {
        upstream.destroy();
        for (const done of closed.splice(0)) done();
      });
    });
    return {
      port: await listen(relay),
      silence: (on) => (silent = on),
      connectionClosed: () => new Promise<void>((resolve) => (closed = [...closed, resolve])),
    };
  }

  it('drops a connection whose server stops answering once a ping goes unanswered, and reconnects for the next call', async () => {
    const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      if (req.url.endsWith('/default')) res.end('{}');
    });
    const relay = await relayTo(await listen(server));
    const transport = new Http2Transport(new IsomorphicFetchHttpLibrary(), { pingAfterMs: 100, pingTimeoutMs: 1000 });

    expect((await transport.send(get(relay.port))).httpStatusCode).toBe(200);
    relay.silence(true);
    await expectCallFails(transport, relay.port, 'ETIMEDOUT', 'did not answer an HTTP/2 ping');
    relay.silence(false);
    expect((await transport.send(get(relay.port))).httpStatusCode).toBe(200);
    transport.close();
  });

  it('also pings an idle connection, so one that died while idle is replaced before the next call', async () => {
    let connections = 0;
    const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => res.end('{}'));
    server.on('session', () => (connections += 1));
    const relay = await relayTo(await listen(server));
    // Pings come well after the first call is done, so only a ping of the idle connection can drop it.
    const transport = new Http2Transport(new IsomorphicFetchHttpLibrary(), { pingAfterMs: 200, pingTimeoutMs: 1000 });
    expect((await transport.send(get(relay.port))).httpStatusCode).toBe(200);
    const dropped = relay.connectionClosed();
    relay.silence(true);
    await dropped; // the unanswered ping ended the idle connection
    relay.silence(false);
    expect((await transport.send(get(relay.port))).httpStatusCode).toBe(200);
    expect(connections).toBe(2);
    transport.close();
  });

  it('after a GOAWAY, fails a call the closing connection never answers instead of waiting forever', async () => {
    const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem });
    server.on('stream', (stream) => {
      stream.on('error', () => undefined);
      // Graceful GOAWAY that still owes this stream its answer, which never comes.
      stream.session?.goaway(0, stream.id);
    });
    const port = await listen(server);
    const transport = new Http2Transport(new IsomorphicFetchHttpLibrary(), { pingAfterMs: 100, pingTimeoutMs: 1000 });
    await expectCallFails(transport, port, 'ETIMEDOUT', 'while closing after a GOAWAY');
    transport.close();
  });

  it('resends the calls an error GOAWAY left unprocessed, and fails the one it had taken', async () => {
    let connections = 0;
    const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem });
    server.on('session', () => (connections += 1));
    let open = 0;
    server.on('stream', (stream) => {
      stream.on('error', () => undefined);
      if (connections > 1) {
        stream.respond({ ':status': 200 });
        stream.end('{}');
      } else if (++open === 3) stream.session?.goaway(constants.NGHTTP2_INTERNAL_ERROR, 1);
    });
    const port = await listen(server);
    const transport = new Http2Transport(new IsomorphicFetchHttpLibrary());
    const outcomes = await Promise.allSettled(Array.from({ length: 3 }, () => transport.send(get(port))));
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(connections).toBe(2);
    transport.close();
  });

  it('fails a call whose connection breaks in the middle of the body, rather than handing over half a document', async () => {
    const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"kind":', () => req.stream.session?.destroy());
    });
    const port = await listen(server);
    const transport = new Http2Transport(new IsomorphicFetchHttpLibrary());
    const response = await transport.send(get(port));
    const err = await rejection(response.body.text());
    expect(err).toMatchObject({ code: 'ECONNRESET' });
    expect(String(err)).toContain('ended in the middle of a response');
    transport.close();
  });

  it('fails a call fast when the server refuses the client certificate after the TLS handshake', async () => {
    const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem, requestCert: true, rejectUnauthorized: true, ca: cert.certPem }, (_req, res) => res.end('{}'));
    const port = await listen(server);
    const transport = new Http2Transport(new IsomorphicFetchHttpLibrary());
    expect(await rejection(transport.send(get(port)))).toMatchObject({ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
    transport.close();
  });

  it('gives up on a connection whose handshake never completes', async () => {
    const mute = createServer(() => undefined); // accepts TCP, never speaks TLS
    const port = await listen(mute);
    const transport = new Http2Transport(new IsomorphicFetchHttpLibrary(), { connectTimeoutMs: 50 });
    await expectCallFails(transport, port, 'ETIMEDOUT', 'did not complete the TLS and HTTP/2 handshake within 50 ms');
    transport.close();
  });

  it('after close(), fails the calls still waiting for a stream and opens no new connection', async () => {
    let connections = 0;
    const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem, settings: { maxConcurrentStreams: 1 } });
    server.on('session', () => (connections += 1));
    let answer: () => void = () => undefined;
    const first = new Promise<void>((resolve) => {
      server.on('stream', (stream) => {
        answer = () => {
          stream.respond({ ':status': 200 });
          stream.end('{}');
        };
        resolve();
      });
    });
    const port = await listen(server);
    const transport = new Http2Transport(new IsomorphicFetchHttpLibrary());
    const inFlight = transport.send(get(port));
    const waiting = transport.send(get(port));
    await first;
    transport.close();
    answer();
    expect((await inFlight).httpStatusCode).toBe(200);
    expect(await rejection(waiting)).toMatchObject({ code: 'ECONNRESET' });
    expect(connections).toBe(1);
  });

  it('keeps a process that holds nothing else alive until the whole body has arrived', async () => {
    // Headers and part of the body, then the rest only once the test opens the gate: in between,
    // only the call's connection can keep the client's process alive.
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    // The gate opens once the client has taken in the headers and the first part: it answered a
    // ping sent after them (frames are read in order), or it is gone.
    let partReceived: () => void = () => undefined;
    const partTakenIn = new Promise<void>((resolve) => (partReceived = resolve));
    const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
      req.stream.once('close', () => partReceived());
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"kind":', () => {
        try {
          if (req.stream.session?.ping(() => partReceived()) !== true) partReceived();
        } catch {
          partReceived(); // the session is already gone
        }
      });
      void gate.then(() => res.end('"Namespace"}'));
    });
    const port = await listen(server);
    const dir = await mkdtemp(join(tmpdir(), 'secretlet-h2-ca-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'ca.pem'), cert.certPem);
    const script = join(ROOT, 'test/fixtures/http2-one-call.ts');
    const call = promisify(execFile)(process.execPath, ['--import', 'tsx', script, `https://127.0.0.1:${port}/api/v1/namespaces/default`, join(dir, 'ca.pem')], { cwd: ROOT });
    await partTakenIn;
    openGate();
    const { stdout } = await call;
    expect(stdout).toBe('200 {"kind":"Namespace"}\n');
  });

  it('ends the stream of an aborted call and rejects it as aborted', async () => {
    let closedByClient: () => void = () => undefined;
    const streamClosed = new Promise<void>((resolve) => (closedByClient = resolve));
    const server = createSecureServer({ cert: cert.certPem, key: cert.keyPem }, (req) => {
      req.stream.once('close', () => closedByClient()); // never answered
    });
    const port = await listen(server);
    const transport = new Http2Transport(new IsomorphicFetchHttpLibrary());
    const controller = new AbortController();
    const pending = transport.send(get(port, controller.signal));
    await new Promise<void>((resolve) => server.once('stream', () => setImmediate(resolve)));
    controller.abort();
    expect(await rejection(pending)).toMatchObject({ name: 'AbortError' });
    await streamClosed;
    transport.close();
  });
});
