/**
 * A full disk in the middle of a batch: the append fails with RESOURCE_EXHAUSTED, the log refuses
 * further appends (its tail may hold part of a line), and a reopen cuts the partial line and keeps
 * every acknowledged record. A snapshot that does not fit leaves no temp file behind. Uses a tiny tmpfs, so it needs CAP_SYS_ADMIN and `mount`; skipped
 * otherwise, saying why in its name.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileEventLog } from '../../../src/adapters/eventlog/file-event-log.js';
import type { ReplayedRecord } from '../../../src/core/events/events.js';
import { restoreState } from '../../../src/core/events/restore.js';
import { mountPublished } from '../../fixtures/eventlog/mount-script.js';
import { mountCapability } from '../../support/privileges.js';

const run = promisify(execFile);
const MOUNT = mountCapability();

let dir: string;
let mounted = false;

describe.skipIf(!MOUNT.capable)(`FileEventLog on a full disk${MOUNT.capable ? '' : ` (skipped: ${MOUNT.reason})`}`, () => {
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secretlet-eventlog-full-'));
    await run('mount', ['-t', 'tmpfs', '-o', 'size=48k,mode=0700', 'tmpfs', dir]);
    mounted = true;
  });

  afterEach(async () => {
    if (mounted) await run('umount', [dir]);
    mounted = false;
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the append that does not fit, refuses later ones, and reopens with every acknowledged record', async () => {
    const log = await FileEventLog.open({ dir, fsync: 'always' });
    let acked = 0;
    let failure: unknown;
    for (let i = 0; i < 1000 && failure === undefined; i++) {
      try {
        const records = await log.append([mountPublished(i), mountPublished(i + 1000)]);
        acked = records.at(-1)?.seq ?? acked;
      } catch (err) {
        failure = err;
      }
    }
    expect(failure).toMatchObject({ code: 'RESOURCE_EXHAUSTED', reason: 'EventLogDiskFull' });
    await expect(log.append([mountPublished(5000)])).rejects.toMatchObject({ reason: 'EventLogDiskFull' });
    await log.close();

    const reopened = await FileEventLog.open({ dir, fsync: 'always' });
    try {
      const replayed: ReplayedRecord[] = [];
      for await (const record of reopened.replay()) replayed.push(record);
      expect(replayed.map((r) => r.seq)).toEqual(Array.from({ length: replayed.length }, (_v, i) => i + 1));
      expect(replayed.length).toBeGreaterThanOrEqual(acked);
      console.info(`disk full: ${acked} acknowledged, reopen report ${JSON.stringify(reopened.openReport)}`);
      if (reopened.openReport.truncatedBytes > 0) expect(reopened.openReport.reason).toBe('torn-line');
    } finally {
      await reopened.close();
    }
  });
  it('leaves no temp file behind when a snapshot does not fit, and compacts once there is room', async () => {
    const log = await FileEventLog.open({ dir, fsync: 'always' });
    try {
      for (let i = 0; i < 5; i++) await log.append([mountPublished(i)]);
      const state = await restoreState(log);
      // Something else on the volume takes every free byte.
      await mkdir(join(dir, 'filler'));
      try {
        for (let i = 0; ; i++) await writeFile(join(dir, 'filler', String(i)), Buffer.alloc(4096));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      await expect(log.compact(state)).rejects.toMatchObject({ reason: 'EventLogDiskFull' });
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);

      await rm(join(dir, 'filler'), { recursive: true });
      await log.compact(state);
      expect((await readdir(dir)).filter((n) => n.startsWith('snapshot-'))).toHaveLength(1);
    } finally {
      await log.close();
    }
  });
});
