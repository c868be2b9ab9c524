/**
 * A grpc-js Server bound to a Unix socket, with the lifecycle both doors need and grpc-js does not
 * provide: a stale socket file left by a crashed run is removed before binding (binding over it
 * fails with EADDRINUSE), but a socket some process still serves is refused, never taken over; the
 * parent directory is created; and stop() drains in-flight calls (tryShutdown) for at most a
 * deadline before cancelling them (forceShutdown) and removes the file if it is still this server's.
 *
 * Both checks matter when migrating from the upstream AWS provider, which listens on the same
 * aws.sock: taking its live socket over would work until the old process exits and deletes the
 * path, and from then on every driver Mount fails. Likewise, a stop() that deleted whatever is at
 * the path would remove the socket of the server that replaced this one.
 *
 * It also opens each connection's HTTP/2 receive window wide (CONNECTION_WINDOW_BYTES). With the
 * protocol's default of 64 KiB, kubelet or the driver can have only ~20 mount requests on the wire
 * before the agent acknowledges them, and a busy agent acknowledges between bursts of CPU work: in
 * the density benchmark (737 pods) the calls then reached the agent spread over ~3 s instead of
 * ~0.7 s, so they could not share AWS reads (1,319 calls instead of 222). The peers are local and
 * trusted (the socket is root-only); the window is a permit, memory is used only by what is sent.
 */
import { randomBytes } from 'node:crypto';
import { chmod, link, lstat, mkdir, unlink } from 'node:fs/promises';
import type { Http2Server } from 'node:http2';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SecretletError } from '../../core/errors.js';
import { grpcUnixAddress, parseUnixEndpoint } from './endpoint.js';

/** sun_path is 108 bytes on Linux, NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;

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
   * (their handlers' AbortSignals fire) and removes the socket file, unless the file at the path is
   * no longer the one this server bound. Idempotent.
   */
  stop(deadlineMs: number): Promise<void>;
}

export async function startUdsServer(options: UdsServerOptions): Promise<UdsServer> {
  const socketPath = parseUnixEndpoint(options.endpoint);
  await removeStaleSocket(socketPath);
  await mkdir(dirname(socketPath), { recursive: true }).catch((err: unknown) => {
    throw bindFailed(socketPath, err);
  });

  const server = new grpc.Server(options.grpcOptions);
  options.register(server);
  // Node (libuv) unlinks a listening socket's path when it closes, whatever file is there by then.
  // Listening under a private name and linking the endpoint to it keeps that unlink off the
  // endpoint; link() also refuses (EEXIST) a path another process bound since the check above.
  const privatePath = join(dirname(socketPath), `.${basename(socketPath)}.${randomBytes(4).toString('hex')}`);
  // sun_path holds 107 bytes and a NUL; a longer path would fail later with a misleading ENOENT.
  const endpointBytes = Buffer.byteLength(socketPath);
  const extraBytes = Buffer.byteLength(privatePath) - endpointBytes;
  if (endpointBytes + extraBytes > MAX_SOCKET_PATH_BYTES) {
    throw new SecretletError({
      code: 'INVALID_ARGUMENT',
      reason: 'SocketPathTooLong',
      field: 'endpoint',
      message: `unix socket path ${socketPath} is too long: ${endpointBytes} bytes, at most ${MAX_SOCKET_PATH_BYTES - extraBytes} (the listener binds a private name ${extraBytes} bytes longer, and a unix socket path holds ${MAX_SOCKET_PATH_BYTES} bytes)`,
    });
  }
  try {
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(grpcUnixAddress(privatePath), grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      );
    });
    // Only root (kubelet, the driver, their sidecars) may connect, whatever the umask: connect()
    // needs write permission on the socket, which 0600 keeps to its owner.
    await chmod(privatePath, 0o600);
    await link(privatePath, socketPath);
  } catch (err) {
    server.forceShutdown();
    // Best effort: where the bind failed (a read-only directory) this fails too, and its error
    // would hide the one that says why.
    await removeSocketFile(privatePath).catch(() => undefined);
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw socketInUse(socketPath);
    throw bindFailed(socketPath, err);
  }

  await removeSocketFile(privatePath);
  widenConnectionWindows(server, options.connectionWindowBytes ?? CONNECTION_WINDOW_BYTES);
  const bound = await identityOf(socketPath);
  let stopping: Promise<void> | undefined;
  return {
    socketPath,
    stop(deadlineMs: number): Promise<void> {
      stopping ??= shutdown(server, deadlineMs).then(() => removeOwnSocketFile(socketPath, bound));
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

/**
 * A socket file survives a crash (SIGKILL, OOM); binding over it would fail, so it goes first. A
 * socket that accepts a connection is not stale: some process serves it, and it is not ours to take.
 */
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
  // Upstream removes whatever is there; a typo in a root DaemonSet's flag would then delete any file
  // on the host. Only a socket is ours to replace.
  if (!stats.isSocket()) {
    throw new SecretletError({
      code: 'FAILED_PRECONDITION',
      reason: 'SocketPathNotSocket',
      message: `socket path ${socketPath} exists and is not a socket; remove it, or give this agent another path`,
      field: 'endpoint',
    });
  }
  if (await someoneListens(socketPath)) throw socketInUse(socketPath);
  await removeSocketFile(socketPath);
}

function bindFailed(socketPath: string, err: unknown): SecretletError {
  return new SecretletError({
    code: 'UNAVAILABLE',
    reason: 'BindFailed',
    message: `cannot listen on unix socket ${socketPath}: ${err instanceof Error ? err.message : String(err)}`,
    field: 'endpoint',
    cause: err,
  });
}

function socketInUse(socketPath: string): SecretletError {
  return new SecretletError({
    code: 'FAILED_PRECONDITION',
    reason: 'SocketInUse',
    message: `another process is serving ${socketPath}; stop it (or give this agent another path) before starting`,
    field: 'endpoint',
  });
}

/**
 * Whether a connect() to the socket succeeds. ECONNREFUSED is what a socket file with no listener
 * gives (the stale case), ENOENT one removed meanwhile; EAGAIN is a listener whose backlog is full,
 * so still a live process. Anything else (EACCES, ...) is not known to be stale and is reported.
 */
function someoneListens(socketPath: string): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      probe.destroy();
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else if (err.code === 'EAGAIN') resolve(true);
      else
        reject(
          new SecretletError({
            code: 'FAILED_PRECONDITION',
            reason: 'SocketProbeFailed',
            message: `cannot tell whether a process serves ${socketPath}: ${err.message}`,
            field: 'endpoint',
            cause: err,
          }),
        );
    });
  });
}

/** Which file a path is: device and inode, recorded after listen to recognise our own socket later. */
interface FileIdentity {
  dev: number;
  ino: number;
}

async function identityOf(path: string): Promise<FileIdentity | undefined> {
  const stats = await lstat(path).catch(() => undefined);
  return stats === undefined ? undefined : { dev: stats.dev, ino: stats.ino };
}

/**
 * Removes the socket file only if it still is the one this server bound: if the path was removed
 * and bound again by another server since, that server's socket stays. (The check and the unlink
 * are two steps; a replacement in between is not guarded against, and needs two restarts racing.)
 * The listener's own close-time unlink hits only its private name (see startUdsServer).
 */
async function removeOwnSocketFile(socketPath: string, bound: FileIdentity | undefined): Promise<void> {
  const current = await identityOf(socketPath);
  if (bound === undefined || current === undefined) return;
  if (current.dev !== bound.dev || current.ino !== bound.ino) return;
  await removeSocketFile(socketPath);
}

async function removeSocketFile(socketPath: string): Promise<void> {
  await unlink(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
