/**
 * One agent per state dir: a second one is refused before it reads, repairs or sets aside the log,
 * and a lock a crashed agent left behind never blocks the next start.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_NAME, StateDirLock } from '../../../src/adapters/eventlog/state-dir-lock.js';
import { createLogger } from '../../../src/adapters/logging/logger.js';
import { EventJournal } from '../../../src/main/event-journal.js';

const logger = createLogger({ level: 'silent' });
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'secretlet-lock-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Another process listening on the lock path, as another agent holding it would be. */
async function holderProcess(lockPath: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(lockPath)}, () => process.stdout.write('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(child.stdout as NodeJS.ReadableStream, 'data');
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('StateDirLock', () => {
  it('refuses a second holder while the first holds it, naming the state dir, and is free again once released', async () => {
    const dir = await stateDir();
    const first = await StateDirLock.acquire(dir);
    await expect(StateDirLock.acquire(dir)).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'StateDirInUse',
      field: 'stateDir',
      message: expect.stringContaining(`options.stateDir: ${dir} is in use by another secretlet agent`) as unknown,
    });
    await first.release();
    const second = await StateDirLock.acquire(dir);
    await second.release();
    // Nothing is left in the dir: no lock, no private socket name.
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses while another process holds the lock, and leaves its socket in place', async () => {
    const dir = await stateDir();
    const holder = await holderProcess(join(dir, LOCK_NAME));
    cleanups.push(() => kill(holder));
    await expect(StateDirLock.acquire(dir)).rejects.toMatchObject({ reason: 'StateDirInUse' });
    expect((await lstat(join(dir, LOCK_NAME))).isSocket()).toBe(true);
  });

  it('takes over the lock a killed agent left behind', async () => {
    const dir = await stateDir();
    const holder = await holderProcess(join(dir, LOCK_NAME));
    await kill(holder);
    const lock = await StateDirLock.acquire(dir);
    await expect(StateDirLock.acquire(dir)).rejects.toMatchObject({ reason: 'StateDirInUse' });
    await lock.release();
  });

  it('lets only one of two agents starting at once take it', async () => {
    const dir = await stateDir();
    const outcomes = await Promise.allSettled([StateDirLock.acquire(dir), StateDirLock.acquire(dir), StateDirLock.acquire(dir)]);
    const held = outcomes.filter((o): o is PromiseFulfilledResult<StateDirLock> => o.status === 'fulfilled');
    expect(held).toHaveLength(1);
    for (const h of held) await h.value.release();
  });
});

describe('EventJournal on a state dir another agent holds', () => {
  it('is refused before it touches the log, and the holder keeps appending', async () => {
    const dir = await stateDir();
    const journal = await EventJournal.open({ stateDir: dir, fsync: 'always', logger });
    await expect(EventJournal.open({ stateDir: dir, fsync: 'always', logger })).rejects.toMatchObject({ reason: 'StateDirInUse' });
    const appended = await journal.record([{ type: 'MountUnpublished', payload: { mountKey: 'uid-1/vol' } }]);
    expect(appended).toHaveLength(1);
    await journal.close();
    // Closed, the dir is free: a restart opens the same log.
    const reopened = await EventJournal.open({ stateDir: dir, fsync: 'always', logger });
    expect(reopened.openReport).toMatchObject({ truncatedBytes: 0 });
    await reopened.close();
  });
});
