import { execFileSync, spawn } from 'node:child_process';
import { connect as connectHttp2 } from 'node:http2';
import { connect as connectUnix } from 'node:net';
import { once } from 'node:events';
import { lstat, mkdir, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProviderClient, startProviderServer } from '../../../src/adapters/grpc/index.js';
import { CONNECTION_WINDOW_BYTES } from '../../../src/adapters/grpc/uds-server.js';
import type { ProviderClient, ProviderMountRequest, ProviderServiceOptions, UdsServer } from '../../../src/adapters/grpc/index.js';
import { mountCapability } from '../../support/privileges.js';
import { FakeMountHandler, blockUntilAborted, deferred, rejectionOf, socketDir, whenAborted } from './fakes.js';

const mount = mountCapability();

const request: ProviderMountRequest = { attributes: '{}', secrets: 'null', targetPath: '/t', permission: '420', currentObjectVersion: [] };

function options(handler: FakeMountHandler): ProviderServiceOptions {
  return { runtimeName: 'secretlet', runtimeVersion: 'test', handler };
}

async function kind(path: string): Promise<'socket' | 'file' | 'directory' | 'missing'> {
  try {
    const s = await lstat(path);
    return s.isSocket() ? 'socket' : s.isDirectory() ? 'directory' : 'file';
  } catch {
    return 'missing';
  }
}

/** Leaves a real stale socket behind: a process listens on `path` and is SIGKILLed, so nothing unlinks it. */
async function leaveStaleSocket(path: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.stdout.write('up'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await once(child.stdout, 'data');
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('Unix socket server lifecycle', () => {
  let dir: { dir: string; cleanup(): Promise<void> };
  let servers: UdsServer[];
  let clients: ProviderClient[];

  beforeEach(async () => {
    dir = await socketDir();
    servers = [];
    clients = [];
  });

  afterEach(async () => {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.stop(0)));
    await dir.cleanup();
  });

  const idle = (): FakeMountHandler => new FakeMountHandler(() => Promise.reject(new Error('unused')));

  async function start(path: string, handler = idle()): Promise<{ server: UdsServer; client: ProviderClient }> {
    const server = await startProviderServer(path, options(handler));
    servers.push(server);
    const client = createProviderClient(path);
    clients.push(client);
    return { server, client };
  }

  it('removes a stale socket left by a killed process and serves on it', async () => {
    const path = `${dir.dir}/aws.sock`;
    await leaveStaleSocket(path);
    expect(await kind(path)).toBe('socket');

    const { client } = await start(path);
    await expect(client.version()).resolves.toMatchObject({ version: 'v1alpha1' });
  });

  it('refuses to take over a socket another server is serving, and that server keeps serving', async () => {
    const path = `${dir.dir}/aws.sock`;
    const { client } = await start(path);

    await expect(startProviderServer(path, options(idle()))).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'SocketInUse',
      message: expect.stringContaining(`another process is serving ${path}`) as unknown,
    });
    expect(await kind(path)).toBe('socket');
    await expect(client.version()).resolves.toMatchObject({ version: 'v1alpha1' });
  });

  it('refuses a socket a live non-gRPC process listens on (e.g. the upstream provider during a migration)', async () => {
    const path = `${dir.dir}/aws.sock`;
    const child = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.stdout.write('up'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await once(child.stdout, 'data');
      await expect(startProviderServer(path, options(idle()))).rejects.toMatchObject({ reason: 'SocketInUse' });
      expect(await kind(path)).toBe('socket');
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('stop() leaves alone a socket file another server bound at the path since', async () => {
    const path = `${dir.dir}/aws.sock`;
    const { server: old } = await start(path);
    // The path was taken over while `old` still runs (an operator removed the file, another agent bound it).
    await unlink(path);
    const { client: next } = await start(path);

    await old.stop(1_000);

    expect(await kind(path)).toBe('socket');
    await expect(next.version()).resolves.toMatchObject({ version: 'v1alpha1' });
  });

  it('refuses, and leaves alone, a regular file at the socket path (a mistyped flag must not delete a host file)', async () => {
    const path = `${dir.dir}/aws.sock`;
    await writeFile(path, 'important');
    await expect(startProviderServer(path, options(idle()))).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'SocketPathNotSocket',
      message: `socket path ${path} exists and is not a socket; remove it, or give this agent another path`,
    });
    expect(await readFile(path, 'utf8')).toBe('important');
  });

  // Root ignores directory modes, so the read-only directory is a read-only tmpfs mount.
  it.skipIf(!mount.capable)(`reports why it cannot listen in a read-only directory, not a failed cleanup of its private name${mount.capable ? '' : ` (skipped: ${mount.reason})`}`, async () => {
    const readOnly = `${dir.dir}/ro`;
    await mkdir(readOnly);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', readOnly]);
    try {
      const path = `${readOnly}/aws.sock`;
      await expect(startProviderServer(path, options(idle()))).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        reason: 'BindFailed',
        message: expect.stringMatching(new RegExp(`^cannot listen on unix socket ${path}: .*EROFS`)) as unknown,
      });
    } finally {
      execFileSync('umount', [readOnly]);
    }
  });

  it('refuses to remove a directory at the socket path', async () => {
    const path = `${dir.dir}/aws.sock`;
    await mkdir(path);
    await expect(startProviderServer(path, options(idle()))).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'SocketPathIsDirectory',
    });
    expect(await kind(path)).toBe('directory');
  });

  it('gives the socket mode 0600 (owner only) whatever the umask', async () => {
    const path = `${dir.dir}/aws.sock`;
    const previous = process.umask(0);
    try {
      await start(path);
    } finally {
      process.umask(previous);
    }
    expect((await lstat(path)).mode & 0o777).toBe(0o600);
  });

  it('refuses a socket path too long for a unix socket, saying so (not a late ENOENT)', async () => {
    const path = `${dir.dir}/${'d'.repeat(Math.max(1, 100 - dir.dir.length))}/aws.sock`;
    await expect(start(path)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'SocketPathTooLong', message: expect.stringContaining(`unix socket path ${path} is too long`) as unknown });
  });

  it('creates the parent directory of the socket', async () => {
    const path = `${dir.dir}/plugins/csi-secrets-store/p.sock`;
    const { client } = await start(path);
    await expect(client.version()).resolves.toMatchObject({ version: 'v1alpha1' });
  });

  it('stop() removes the socket file and can be called twice', async () => {
    const path = `${dir.dir}/aws.sock`;
    const { server } = await start(path);
    expect(await kind(path)).toBe('socket');
    // The private name the listener was bound under is gone: only the endpoint is left.
    expect(await readdir(dir.dir)).toEqual(['aws.sock']);
    await server.stop(1_000);
    expect(await kind(path)).toBe('missing');
    expect(await readdir(dir.dir)).toEqual([]);
    await expect(server.stop(1_000)).resolves.toBeUndefined();
  });

  it('stop() lets an in-flight call finish within the deadline', async () => {
    const path = `${dir.dir}/aws.sock`;
    const started = deferred();
    const release = deferred();
    const handler = new FakeMountHandler(async () => {
      started.resolve();
      await release.promise;
      return { objectVersion: [{ id: 'a', version: '1' }], files: [] };
    });
    const { server, client } = await start(path, handler);

    const call = client.mount(request);
    await started.promise;
    const stopped = server.stop(60_000);
    release.resolve();

    await expect(call).resolves.toEqual({ objectVersion: [{ id: 'a', version: '1' }], files: [] });
    await stopped;
    expect(await kind(path)).toBe('missing');
  });

  it('stop() cancels calls still running at the deadline, aborting their handlers', async () => {
    const path = `${dir.dir}/aws.sock`;
    const started = deferred<{ req: ProviderMountRequest; signal: AbortSignal }>();
    const { server, client } = await start(path, new FakeMountHandler(blockUntilAborted(started)));

    const call = rejectionOf(client.mount(request));
    const { signal } = await started.promise;
    await server.stop(0);

    expect(await whenAborted(signal)).toMatchObject({ code: 'CANCELLED' });
    // grpc-js resets the stream (CANCELLED); a connection torn down first would read UNAVAILABLE.
    expect([status.CANCELLED, status.UNAVAILABLE]).toContain((await call)['code']);
    expect(await kind(path)).toBe('missing');
  });

  it('lets a client put a whole burst of calls on the wire: the connection window is 16 MiB, not 64 KiB', async () => {
    const path = `${dir.dir}/window.sock`;
    await start(path);
    // A plain HTTP/2 client sees the window the server grants it once a ping has round-tripped
    // (the server's WINDOW_UPDATE is sent before its PING ack).
    const session = connectHttp2('http://localhost', { createConnection: () => connectUnix(path) });
    try {
      await once(session, 'connect');
      await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
      expect(session.state.remoteWindowSize).toBeGreaterThanOrEqual(CONNECTION_WINDOW_BYTES - 65_535);
    } finally {
      session.destroy();
    }
  });
});
