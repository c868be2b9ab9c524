/**
 * A compaction whose segment rotation fails after the snapshot is durable (the directory fsync
 * refused: EMFILE, EIO). The new segment's file may be left behind, empty; recovery would take it as
 * the start of what follows the snapshot and delete the segment before it. So the log must refuse
 * later appends, and a reopen must keep every acknowledged record. The fault is injected by
 * replacing node:fs/promises `open` for directory opens (how the log fsyncs its directory).
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileEventLog } from '../../../src/adapters/eventlog/file-event-log.js';
import { restoreState } from '../../../src/core/events/restore.js';
import { mountPublished } from '../../fixtures/eventlog/mount-script.js';

const fsPromises = createRequire(import.meta.url)('node:fs/promises') as typeof FsPromises;
const realOpen = fsPromises.open;

/** Fails the `skip + 1`-th read-only open of `dir` (a directory fsync) with EMFILE, once. */
function failDirectoryOpen(dir: string, skip: number): void {
  let left = skip;
  fsPromises.open = (async (path: Parameters<typeof realOpen>[0], flags?: Parameters<typeof realOpen>[1], mode?: Parameters<typeof realOpen>[2]) => {
    if (flags === 'r' && String(path) === dir && left-- <= 0) {
      fsPromises.open = realOpen;
      syncBuiltinESMExports();
      throw Object.assign(new Error(`EMFILE: too many open files, open '${dir}'`), { code: 'EMFILE' });
    }
    return realOpen(path, flags, mode);
  }) as typeof realOpen;
  syncBuiltinESMExports();
}

let dir: string | undefined;
afterEach(async () => {
  fsPromises.open = realOpen;
  syncBuiltinESMExports();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('FileEventLog compaction whose segment rotation fails', () => {
  it('refuses later appends, and reopens with every acknowledged record', async () => {
    dir = await mkdtemp(join(tmpdir(), 'secretlet-eventlog-compact-fail-'));
    const log = await FileEventLog.open({ dir, fsync: 'always' });
    for (let i = 0; i < 10; i++) await log.append([mountPublished(i)]);
    const state = await restoreState(log);

    // The snapshot's own directory fsync passes; the rotation's, right after, fails.
    failDirectoryOpen(dir, 1);
    await expect(log.compact(state)).rejects.toMatchObject({ code: 'INTERNAL', reason: 'EventLogIoError' });
    const acknowledged: number[] = [];
    for (let i = 10; i < 15; i++) {
      try {
        acknowledged.push(...(await log.append([mountPublished(i)])).map((r) => r.seq));
      } catch {
        // refused: nothing to lose
      }
    }
    expect(acknowledged).toEqual([]);
    await log.close().catch(() => undefined);

    const reopened = await FileEventLog.open({ dir, fsync: 'always' });
    try {
      const replayed: number[] = [];
      for await (const record of reopened.replay()) replayed.push(record.seq);
      const recovered = (reopened.snapshot()?.lastSeq ?? 0) + replayed.length;
      expect(recovered).toBeGreaterThanOrEqual(10);
      expect((await reopened.append([mountPublished(99)]))[0]?.seq).toBe(recovered + 1);
    } finally {
      await reopened.close();
    }
  });
});
