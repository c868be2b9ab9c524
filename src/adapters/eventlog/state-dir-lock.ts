/**
 * One agent per state dir. Two agents on one event log (a second DaemonSet, a `secretlet serve` run
 * by hand with the default `--state-dir`) wrote the same sequence numbers into one segment, and the
 * next start found the log damaged and set everything it knew aside.
 *
 * The lock is a unix socket, `<state-dir>/agent.lock`, that the holder listens on: a live holder
 * accepts a connection, a dead one (SIGKILL, OOM, node reboot) leaves a file that refuses it, so a
 * crash never leaves the dir locked and nothing native (flock) is needed. Path sockets are reached
 * through the file system, so this holds across containers and network namespaces sharing the
 * hostPath. The socket is bound under a private name and linked into place: link() fails if the
 * name exists, so two agents starting at once cannot both take it; only replacing a dead holder's
 * file leaves a window of microseconds between checking and unlinking it.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, unlink } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { SecretletError } from '../../core/errors.js';

export const LOCK_NAME = 'agent.lock';
/** sun_path holds 107 bytes and a NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

export class StateDirLock {
  readonly #server: Server;
  readonly #lockPath: string;
  readonly #inode: number;
  #released = false;

  private constructor(server: Server, lockPath: string, inode: number) {
    this.#server = server;
    this.#lockPath = lockPath;
    this.#inode = inode;
  }

  /** Takes the state dir's lock; FAILED_PRECONDITION StateDirInUse while another live agent holds it. */
  static async acquire(stateDir: string): Promise<StateDirLock> {
    const lockPath = join(stateDir, LOCK_NAME);
    const privatePath = join(stateDir, `.${LOCK_NAME}.${randomBytes(4).toString('hex')}`);
    if (Buffer.byteLength(privatePath) > MAX_SOCKET_PATH_BYTES) {
      throw new SecretletError({
        code: 'INVALID_ARGUMENT',
        reason: 'StateDirTooLong',
        field: 'stateDir',
        message: `options.stateDir: ${stateDir} is too long for the agent's lock socket (at most ${MAX_SOCKET_PATH_BYTES - (Buffer.byteLength(privatePath) - Buffer.byteLength(stateDir))} bytes)`,
      });
    }
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(privatePath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // A probe's connection must not keep the process alive, nor the lock itself.
    server.unref();
    try {
      for (let attempt = 0; ; attempt += 1) {
        try {
          await link(privatePath, lockPath);
          return new StateDirLock(server, lockPath, (await lstat(lockPath)).ino);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
        }
        const held = await lstat(lockPath).catch(() => undefined);
        if (held === undefined) continue;
        if (held.isSocket() && (await someoneListens(lockPath))) throw inUse(stateDir, lockPath);
        // A dead holder's socket, or a stray file: remove it if it is still the one just checked.
        if ((await lstat(lockPath).catch(() => undefined))?.ino === held.ino) await unlink(lockPath).catch(() => undefined);
      }
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (err instanceof SecretletError) throw err;
      throw new SecretletError({
        code: 'UNAVAILABLE',
        reason: 'StateDirLockFailed',
        field: 'stateDir',
        message: `options.stateDir: cannot take the lock ${lockPath}: ${err instanceof Error ? err.message : String(err)}`,
        cause: err,
      });
    } finally {
      // Linked into place or not, the private name is done with (close() would unlink it too, later).
      await unlink(privatePath).catch(() => undefined);
    }
  }

  /** Gives the lock up: the socket closes, and its name goes if it is still this lock's. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    if ((await lstat(this.#lockPath).catch(() => undefined))?.ino === this.#inode) await unlink(this.#lockPath).catch(() => undefined);
  }
}

function inUse(stateDir: string, lockPath: string): SecretletError {
  return new SecretletError({
    code: 'FAILED_PRECONDITION',
    reason: 'StateDirInUse',
    field: 'stateDir',
    message: `options.stateDir: ${stateDir} is in use by another secretlet agent (it answers on ${lockPath}); stop it, or give this agent another --state-dir`,
  });
}

/** Whether a connect() succeeds; refused or gone means no live holder. Other errors count as live (never steal a lock on doubt). */
function someoneListens(path: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      probe.destroy();
      resolve(!(err.code === 'ECONNREFUSED' || err.code === 'ENOENT'));
    });
  });
}
