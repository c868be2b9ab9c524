/**
 * A grpc-js Server bound to a Unix socket, with the lifecycle both doors need and grpc-js does not
 * provide: a stale socket file left by a crashed run is removed before binding (binding over it
 * fails with EADDRINUSE), the parent directory is created, and stop() drains in-flight calls
 * (tryShutdown) for at most a deadline before cancelling them (forceShutdown) and removes the file.
 *
 * It also opens each connection's HTTP/2 receive window wide (CONNECTION_WINDOW_BYTES). With the
 * protocol's default of 64 KiB, kubelet or the driver can have only ~20 mount requests on the wire
 * before the agent acknowledges them, and a busy agent acknowledges between bursts of CPU work: in
 * the density benchmark (737 pods) the calls then reached the agent spread over ~3 s instead of
 * ~0.7 s, so they could not share AWS reads (1,319 calls instead of 222). The peers are local and
 * trusted (the socket is root-only); the window is a permit, memory is used only by what is sent.
 */
import { lstat, mkdir, unlink } from 'node:fs/promises';
import type { Http2Server } from 'node:http2';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SecretletError } from '../../core/errors.js';
import { grpcUnixAddress, parseUnixEndpoint } from './endpoint.js';

export interface UdsServerOptions {
  /** `unix:///abs/path`, `unix://path` (read as `/path`, like the CSI `--endpoint` flag), or an absolute path. */
  endpoint: string;
  /** Adds the services; called once, before binding. */
  register: (server: grpc.Server) => void;
  /** Passed to the grpc-js Server (message size limits and the like). */
  grpcOptions?: grpc.ServerOptions;
  /** Each connection's HTTP/2 receive window. @default CONNECTION_WINDOW_BYTES */
  connectionWindowBytes?: number;
}

/** 16 MiB: a whole node's burst of mount requests (hundreds of ~3 KiB calls) fits on the wire at once. */
export const CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;

export interface UdsServer {
  /** The absolute path of the bound socket file. */
  readonly socketPath: string;
  /**
   * Stops accepting calls, lets in-flight calls finish for up to `deadlineMs`, then cancels the rest
   * (their handlers' AbortSignals fire) and removes the socket file. Idempotent.
   */
  stop(deadlineMs: number): Promise<void>;
}

export async function startUdsServer(options: UdsServerOptions): Promise<UdsServer> {
  const socketPath = parseUnixEndpoint(options.endpoint);
  await removeStaleSocket(socketPath);
  await mkdir(dirname(socketPath), { recursive: true });

  const server = new grpc.Server(options.grpcOptions);
  options.register(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(grpcUnixAddress(socketPath), grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      );
    });
  } catch (err) {
    server.forceShutdown();
    throw new SecretletError({
      code: 'UNAVAILABLE',
      reason: 'BindFailed',
      message: `cannot listen on unix socket ${socketPath}: ${err instanceof Error ? err.message : String(err)}`,
      field: 'endpoint',
      cause: err,
    });
  }

  widenConnectionWindows(server, options.connectionWindowBytes ?? CONNECTION_WINDOW_BYTES);
  let stopping: Promise<void> | undefined;
  return {
    socketPath,
    stop(deadlineMs: number): Promise<void> {
      stopping ??= shutdown(server, deadlineMs).then(() => removeSocketFile(socketPath));
      return stopping;
    },
  };
}

/**
 * grpc-js offers no server option for the connection window (only clients have
 * `grpc-node.flow_control_window`), so this reaches its HTTP/2 servers after binding. If a grpc-js
 * release renames that field, the window stays at the default: calls still work, bursts are slower;
 * a test checks the window a client sees, so an upgrade that loses it fails CI.
 */
function widenConnectionWindows(server: grpc.Server, bytes: number): void {
  const http2Servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  for (const h2 of http2Servers?.keys() ?? []) {
    h2.on('session', (session) => session.setLocalWindowSize(bytes));
  }
}

function shutdown(server: grpc.Server, deadlineMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve();
    };
    // forceShutdown cancels every call still running, which aborts their handlers' signals.
    const timer = setTimeout(() => {
      server.forceShutdown();
      finish();
    }, Math.max(0, deadlineMs));
    server.tryShutdown(() => finish());
  });
}

/** A socket file survives a crash (SIGKILL, OOM); binding over it would fail, so it goes first. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const stats = await lstat(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (stats === undefined) return;
  if (stats.isDirectory()) {
    throw new SecretletError({
      code: 'FAILED_PRECONDITION',
      reason: 'SocketPathIsDirectory',
      message: `socket path ${socketPath} is a directory`,
      field: 'endpoint',
    });
  }
  await unlink(socketPath);
}

async function removeSocketFile(socketPath: string): Promise<void> {
  await unlink(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
