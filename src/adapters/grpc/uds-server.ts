/**
 * A grpc-js Server bound to a Unix socket, with the lifecycle both doors need and grpc-js does not
 * provide: a stale socket file left by a crashed run is removed before binding (binding over it
 * fails with EADDRINUSE), the parent directory is created, and stop() drains in-flight calls
 * (tryShutdown) for at most a deadline before cancelling them (forceShutdown) and removes the file.
 */
import { lstat, mkdir, unlink } from 'node:fs/promises';
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
}

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

  let stopping: Promise<void> | undefined;
  return {
    socketPath,
    stop(deadlineMs: number): Promise<void> {
      stopping ??= shutdown(server, deadlineMs).then(() => removeSocketFile(socketPath));
      return stopping;
    },
  };
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
