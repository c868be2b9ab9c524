/**
 * What the emulator's handlers need of a request and its response, so one handler serves both an
 * HTTP/1.1 exchange and an HTTP/2 one (node's compatibility API). Real API servers offer HTTP/2
 * over TLS and Go clients (kubectl, client-go) take it; so does the agent.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export interface ApiRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface ApiResponse {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  setHeader(name: string, value: number | string | readonly string[]): unknown;
  getHeader(name: string): number | string | string[] | undefined;
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders): unknown;
  /** HTTP/1.1 only: the HTTP/2 response sends its headers at `writeHead`. */
  flushHeaders?(): void;
  write(chunk: string): boolean;
  end(): unknown;
  end(chunk: string | Uint8Array): unknown;
  /** Bytes written but not yet taken by the client (a watch's backpressure). */
  readonly writableLength: number;
  /** Cuts the exchange without sending what is still queued (a watch whose client stopped reading). */
  destroy(): unknown;
  on(event: 'close', listener: () => void): unknown;
}
