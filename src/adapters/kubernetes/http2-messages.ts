/**
 * One request and its answer in HTTP/2 terms: the headers that may be sent, the headers handed back
 * to @kubernetes/client-node, and a body that is only complete when the stream ended cleanly.
 */
import { constants } from 'node:http2';
import type { ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { RequestContext } from '@kubernetes/client-node';

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2) or carries as pseudo-headers. */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te']);

/** An Error with a node-style `code`, which kube-errors.ts reads as "no HTTP status: unavailable". */
export function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

export function abortError(): Error {
  const err = new Error('The operation was aborted.');
  err.name = 'AbortError';
  return err;
}

export function requestHeaders(request: RequestContext, url: URL): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':method': request.getHttpMethod(), ':path': `${url.pathname}${url.search}` };
  for (const [name, value] of Object.entries(request.getHeaders())) {
    const lower = name.toLowerCase();
    if (!NOT_FORWARDED.has(lower)) headers[lower] = value;
  }
  return headers;
}

/** Response headers as node-fetch gives them: lower-case names, repeated values joined by ", ". */
export function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/**
 * The whole body. A stream cut off mid-body (connection lost, server reset) still emits 'end', so
 * the body is settled at 'close' and only a clean close (NO_ERROR) counts as complete: a truncated
 * JSON document would otherwise reach the caller as a parse error instead of a connection error.
 */
export function readBody(stream: ClientHttp2Stream, onChunk: () => void): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    let failure: Error | undefined;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      onChunk();
    });
    stream.once('end', () => (ended = true));
    stream.once('error', (err: Error) => (failure = err));
    stream.once('close', () => {
      const code = stream.rstCode ?? constants.NGHTTP2_NO_ERROR;
      if (ended && failure === undefined && code === constants.NGHTTP2_NO_ERROR) resolve(Buffer.concat(chunks));
      else reject(failure ?? codedError(`the connection to the API server ended in the middle of a response (HTTP/2 code ${code})`, 'ECONNRESET'));
    });
  });
}
