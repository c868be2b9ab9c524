import { connect } from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';

describe('kube emulator: HTTP/2 over TLS, as a real API server offers it', () => {
  const open: Array<{ emulator: KubeEmulator; session?: ClientHttp2Session }> = [];
  afterEach(async () => {
    for (const { emulator, session } of open.splice(0)) {
      session?.destroy();
      await emulator.stop();
    }
  });

  async function h2(options: { http2?: boolean } = {}): Promise<{ emulator: KubeEmulator; session: ClientHttp2Session }> {
    const emulator = await startKubeEmulator(options);
    const session = connect(emulator.url, { ca: emulator.caPem });
    session.on('error', () => undefined);
    open.push({ emulator, session });
    return { emulator, session };
  }

  it('serves an HTTP/2 client, and a watch streams its events over HTTP/2', async () => {
    const { emulator, session } = await h2();
    const stream = session.request({ ':path': '/api/v1/namespaces?watch=1', authorization: `Bearer ${emulator.token}` });
    stream.setEncoding('utf8');
    let text = '';
    const events = new Promise<string[]>((resolve) => {
      stream.on('data', (chunk: string) => {
        text += chunk;
        const lines = text.split('\n').filter((l) => l !== '');
        if (lines.length >= 2) resolve(lines);
      });
    });
    const status = await new Promise<unknown>((resolve) => stream.once('response', (h) => resolve(h[':status'])));
    expect(status).toBe(200);
    const names = (await events).map((l) => (JSON.parse(l) as { type: string; object: { metadata: { name: string } } }).object.metadata.name);
    expect(names.sort()).toEqual(['default', 'kube-system']);
    stream.close();
  });

  it('answers /api with the address the HTTP/2 client used (its :authority, there is no Host header)', async () => {
    const { emulator, session } = await h2();
    const stream = session.request({ ':path': '/api', authorization: `Bearer ${emulator.token}` });
    stream.setEncoding('utf8');
    let text = '';
    stream.on('data', (chunk: string) => (text += chunk));
    await new Promise((resolve) => stream.once('end', resolve));
    const body = JSON.parse(text) as { serverAddressByClientCIDRs: Array<{ serverAddress: string }> };
    expect(body.serverAddressByClientCIDRs[0]?.serverAddress).toBe(new URL(emulator.url).host);
  });

  it('with http2: false offers only HTTP/1.1, so an HTTP/2 client is refused at the handshake', async () => {
    const { session } = await h2({ http2: false });
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => session.once('error', resolve));
    expect(err.code).toBe('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
  });
});
