/**
 * When a new HTTP/2 connection to an API server can carry requests: the TLS handshake chose `h2`
 * by ALPN and the server's SETTINGS (its stream limit) arrived. Until then every failure is the
 * caller's to see with its real cause, and nothing waits forever:
 * - a server that does not select `h2` (an HTTP/1.1-only proxy) → `Http2NotOffered`, and the
 *   transport goes back to HTTP/1.1 for that origin;
 * - a TLS alert after the handshake (TLS 1.3 servers refuse a client certificate that way), which
 *   node 20 reports on the socket only, not on the session;
 * - a close before SETTINGS → the error that caused it, or ECONNRESET;
 * - no handshake within the timeout (client-go's TLS handshake timeout is 10 s) → ETIMEDOUT.
 */
import type { ClientHttp2Session } from 'node:http2';
import { codedError } from './http2-messages.js';

/** The server finished the TLS handshake without choosing HTTP/2. */
export class Http2NotOffered extends Error {
  constructor(origin: string) {
    super(`${origin} does not offer HTTP/2`);
    this.name = 'Http2NotOffered';
  }
}

export function http2Ready(session: ClientHttp2Session, origin: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let negotiated = false;
    let settings = false;
    let lastError: Error | undefined;
    let settled = false;
    // The socket's listener stays: once the session lets the socket go, its proxy refuses even `off`.
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.off('error', onError);
      session.off('close', onClose);
      session.off('connect', onConnect);
      session.off('remoteSettings', onSettings);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onError = (err: Error): void => {
      if (settled) return;
      lastError = refusedAlpn(err) ? new Http2NotOffered(origin) : err;
      settle(lastError);
      session.destroy();
    };
    const onClose = (): void => settle(lastError ?? codedError(`${origin} closed the connection before HTTP/2 was set up`, 'ECONNRESET'));
    const onConnect = (): void => {
      if (session.alpnProtocol !== 'h2') {
        settle(new Http2NotOffered(origin));
        session.destroy();
      } else if (settings) settle();
      else negotiated = true;
    };
    const onSettings = (): void => {
      if (negotiated) settle();
      else settings = true;
    };
    const timer = setTimeout(() => {
      settle(codedError(`${origin} did not complete the TLS and HTTP/2 handshake within ${timeoutMs} ms`, 'ETIMEDOUT'));
      session.destroy();
    }, timeoutMs);
    session.on('error', onError);
    session.socket.on('error', onError);
    session.once('close', onClose);
    session.once('connect', onConnect);
    session.once('remoteSettings', onSettings);
  });
}

/** The TLS alert a server sends when none of the client's ALPN protocols is one it speaks. */
function refusedAlpn(err: Error): boolean {
  return (err as { code?: unknown }).code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL';
}
