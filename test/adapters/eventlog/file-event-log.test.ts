import { mkdtemp, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileEventLog } from '../../../src/adapters/eventlog/file-event-log.js';
import type { FsyncPolicy } from '../../../src/adapters/eventlog/file-event-log.js';
import { sealJson } from '../../../src/adapters/eventlog/sealed-json.js';
import type { ReplayedRecord } from '../../../src/core/events/events.js';
import { applyEvents, emptyState, serializeState } from '../../../src/core/events/projections.js';
import { writeSnapshot } from '../../../src/adapters/eventlog/log-directory.js';
import { restoreState } from '../../../src/core/events/restore.js';
import { mountPublished, mountScript } from '../../fixtures/eventlog/mount-script.js';

let dir: string;
const opened: FileEventLog[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secretlet-eventlog-'));
});

afterEach(async () => {
  for (const log of opened.splice(0)) await log.close();
  await rm(dir, { recursive: true, force: true });
});

async function openLog(options: { fsync?: FsyncPolicy; maxSegmentBytes?: number; groupCommitMs?: number } = {}): Promise<FileEventLog> {
  const log = await FileEventLog.open({ dir, fsync: options.fsync ?? 'always', now: () => Date.UTC(2026, 4, 1), ...options });
  opened.push(log);
  return log;
}

async function closeLog(log: FileEventLog): Promise<void> {
  opened.splice(opened.indexOf(log), 1);
  await log.close();
}

async function replayAll(log: FileEventLog): Promise<ReplayedRecord[]> {
  const records: ReplayedRecord[] = [];
  for await (const record of log.replay()) records.push(record);
  return records;
}

async function segmentFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('events-')).sort();
}

async function onlySegment(): Promise<string> {
  const [name] = await segmentFiles();
  if (name === undefined) throw new Error('no segment');
  return join(dir, name);
}

describe('FileEventLog', () => {
  it.each<FsyncPolicy>(['always', 'group', 'never'])('round-trips records through a reopen (fsync %s)', async (fsync) => {
    const log = await openLog({ fsync });
    const events = mountScript(7, 20);
    const appended = (await Promise.all([log.append(events.slice(0, 5)), log.append(events.slice(5, 6)), log.append(events.slice(6))])).flat();
    expect(appended.map((r) => r.seq)).toEqual(events.map((_e, i) => i + 1));
    await closeLog(log);

    const reopened = await openLog({ fsync });
    expect(reopened.openReport).toEqual({ truncatedBytes: 0, droppedRecords: 0, reason: undefined, removedFiles: [] });
    const replayed = await replayAll(reopened);
    expect(replayed).toEqual(appended);
    expect(replayed[0]).toMatchObject({ seq: 1, time: '2026-05-01T00:00:00.000Z', type: 'MountPublished', mountKey: 'uid-0000/csi-0' });
    const [next] = await reopened.append([mountPublished(999)]);
    expect(next?.seq).toBe(events.length + 1);
  });

  it('writes one checksummed JSON object per line', async () => {
    const log = await openLog();
    await log.append([{ type: 'MountUnpublished', payload: { mountKey: 'uid-1/vol' } }]);
    const text = await readFile(await onlySegment(), 'utf8');
    expect(text).toMatch(/^\{"seq":1,"time":"2026-05-01T00:00:00.000Z","type":"MountUnpublished","mountKey":"uid-1\/vol","payload":\{"mountKey":"uid-1\/vol"\},"crc":"[0-9a-f]{8}"\}\n$/);
  });

  it('cuts a torn tail (a record cut mid-line) and reports it; the log goes on from there', async () => {
    const log = await openLog();
    await log.append(mountScript(1, 3));
    await closeLog(log);
    const path = await onlySegment();
    const size = (await stat(path)).size;
    await truncate(path, size - 25);

    const reopened = await openLog();
    expect(reopened.openReport).toMatchObject({ droppedRecords: 1, reason: 'torn-line' });
    expect(reopened.openReport.truncatedBytes).toBeGreaterThan(0);
    const replayed = await replayAll(reopened);
    const lastSeq = replayed.at(-1)?.seq ?? 0;
    expect(replayed.map((r) => r.seq)).toEqual(Array.from({ length: lastSeq }, (_v, i) => i + 1));
    const [next] = await reopened.append([mountPublished(50)]);
    expect(next?.seq).toBe(lastSeq + 1);
    await closeLog(reopened);
    expect((await replayAll(await openLog())).map((r) => r.seq).at(-1)).toBe(lastSeq + 1);
  });

  it('cuts a last record whose checksum does not match', async () => {
    const log = await openLog();
    await log.append(mountScript(1, 2));
    await closeLog(log);
    const path = await onlySegment();
    const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
    const count = lines.length;
    lines[count - 1] = (lines[count - 1] ?? '').replace('"time":"2026', '"time":"2027');
    await writeFile(path, `${lines.join('\n')}\n`);

    const reopened = await openLog();
    expect(reopened.openReport).toMatchObject({ droppedRecords: 1, reason: 'bad-checksum' });
    expect((await replayAll(reopened)).map((r) => r.seq)).toEqual(Array.from({ length: count - 1 }, (_v, i) => i + 1));
  });

  it('cuts a valid last record whose seq does not follow', async () => {
    const log = await openLog();
    await log.append(mountScript(1, 2));
    await closeLog(log);
    const path = await onlySegment();
    const stray = sealJson({ seq: 99, time: 'x', type: 'MountUnpublished', mountKey: 'a/b', payload: { mountKey: 'a/b' } });
    await writeFile(path, `${await readFile(path, 'utf8')}${stray}\n`);
    const reopened = await openLog();
    expect(reopened.openReport).toMatchObject({ droppedRecords: 1, reason: 'seq-gap' });
  });

  it('refuses to open (DATA_LOSS) when a corrupt record is followed by good ones', async () => {
    const log = await openLog();
    await log.append(mountScript(1, 5));
    await closeLog(log);
    const path = await onlySegment();
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[1] = (lines[1] ?? '').replace('"seq":2', '"seq":3');
    await writeFile(path, lines.join('\n'));
    await expect(FileEventLog.open({ dir, fsync: 'always' })).rejects.toMatchObject({ code: 'DATA_LOSS', reason: 'SegmentCorrupt' });
    // Nothing was cut: the evidence is still there for a human.
    expect(await readFile(path, 'utf8')).toBe(lines.join('\n'));
  });

  it('refuses to open when the newline between the last two records is damaged: the last record is intact', async () => {
    const log = await openLog();
    await log.append(mountScript(1, 5));
    await closeLog(log);
    const path = await onlySegment();
    const bytes = await readFile(path);
    // The newline ending the fourth record becomes a space: two records on one line, the fifth whole.
    bytes[bytes.lastIndexOf(0x0a, bytes.length - 2)] = 0x20;
    await writeFile(path, bytes);
    await expect(FileEventLog.open({ dir, fsync: 'always' })).rejects.toMatchObject({ code: 'DATA_LOSS', reason: 'SegmentCorrupt' });
    expect((await readFile(path)).equals(bytes)).toBe(true);
  });

  it('leaves a corrupt log exactly as found: nothing removed before the corruption is found', async () => {
    const log = await openLog({ maxSegmentBytes: 2000 });
    const records: ReplayedRecord[] = [];
    for (const event of mountScript(3, 12)) records.push(...(await log.append([event])));
    await closeLog(log);
    const segments = await segmentFiles();
    expect(segments.length).toBeGreaterThan(2);
    // The second segment renamed one seq too early, and a snapshot ending just before that name:
    // the first segment looks covered by the snapshot, though its last record is not in it.
    const second = segments[1] ?? '';
    const secondSeq = Number(/events-(\d+)/.exec(second)?.[1]);
    const renamed = second.replace(/\d+/, String(secondSeq - 1).padStart(/\d+/.exec(second)?.[0].length ?? 0, '0'));
    await rename(join(dir, second), join(dir, renamed));
    await writeSnapshot(dir, applyEvents(emptyState(), records.filter((r) => r.seq <= secondSeq - 2)));
    const before = (await readdir(dir)).sort();
    await expect(FileEventLog.open({ dir, fsync: 'always' })).rejects.toMatchObject({ code: 'DATA_LOSS' });
    expect((await readdir(dir)).sort()).toEqual(before);
  });

  it('refuses to open when a whole earlier segment is missing', async () => {
    const log = await openLog({ maxSegmentBytes: 2000 });
    for (const event of mountScript(3, 10)) await log.append([event]);
    await closeLog(log);
    const segments = await segmentFiles();
    expect(segments.length).toBeGreaterThan(2);
    await rm(join(dir, segments[1] ?? ''));
    await expect(FileEventLog.open({ dir, fsync: 'always' })).rejects.toMatchObject({ code: 'DATA_LOSS', reason: 'SegmentGap' });
  });

  it.each([false, true])('refuses to open when the first segment is missing (snapshot: %s)', async (withSnapshot) => {
    const log = await openLog({ maxSegmentBytes: 2000 });
    const records: ReplayedRecord[] = [];
    for (const event of mountScript(3, 12)) records.push(...(await log.append([event])));
    if (withSnapshot) {
      // A snapshot ending at the first record of the second segment: the first one is compacted
      // away and the second, which still holds records after the snapshot, becomes the first.
      const secondSeq = Number(/events-(\d+)/.exec((await segmentFiles())[1] ?? '')?.[1]);
      await log.compact(applyEvents(emptyState(), records.filter((r) => r.seq <= secondSeq)));
    }
    await closeLog(log);
    const segments = await segmentFiles();
    expect(segments.length).toBeGreaterThan(2);
    await rm(join(dir, segments[0] ?? ''));
    const before = (await readdir(dir)).sort();
    await expect(FileEventLog.open({ dir, fsync: 'always' })).rejects.toMatchObject({ code: 'DATA_LOSS', reason: 'SegmentGap' });
    expect((await readdir(dir)).sort()).toEqual(before);
  });

  it('a snapshot newer than every record (power loss under fsync never): appends go on after it and survive a reopen', async () => {
    const log = await openLog({ fsync: 'never' });
    const records = await log.append(mountScript(6, 10));
    await closeLog(log);
    // The snapshot reached the disk; the segment's unsynced tail did not.
    await writeSnapshot(dir, applyEvents(emptyState(), records));
    const path = await onlySegment();
    const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
    await writeFile(path, `${lines.slice(0, Math.floor(lines.length / 2)).join('\n')}\n`);

    const reopened = await openLog({ fsync: 'never' });
    const appended = await reopened.append([mountPublished(501), mountPublished(502), mountPublished(503)]);
    expect(appended.map((r) => r.seq)).toEqual([records.length + 1, records.length + 2, records.length + 3]);
    const live = await restoreState(reopened);
    await closeLog(reopened);

    const again = await openLog({ fsync: 'never' });
    expect(await replayAll(again)).toEqual(appended);
    expect(serializeState(await restoreState(again))).toEqual(serializeState(live));
    expect(serializeState(live)).toEqual(serializeState(applyEvents(emptyState(), [...records, ...appended])));
  });

  it('compaction keeps the projected state identical and bounds the files', async () => {
    const events = mountScript(11, 60);
    const log = await openLog({ maxSegmentBytes: 4096 });
    for (let i = 0; i < events.length; i += 3) await log.append(events.slice(i, i + 3));
    const before = await restoreState(log);
    const filesBefore = await segmentFiles();
    expect(filesBefore.length).toBeGreaterThan(3);

    await log.compact(before);
    const more = mountScript(12, 10).map((e, i) => ({ ...e, payload: { ...e.payload, mountKey: `later-${i}/vol` } }) as typeof e);
    await log.append(more);
    const live = await restoreState(log);
    await closeLog(log);

    const reopened = await openLog({ maxSegmentBytes: 4096 });
    expect(reopened.snapshot()?.lastSeq).toBe(before.lastSeq);
    const after = await restoreState(reopened);
    expect(serializeState(after)).toEqual(serializeState(live));
    const names = await readdir(dir);
    expect(names.filter((n) => n.startsWith('snapshot-'))).toHaveLength(1);
    expect(names.filter((n) => n.startsWith('events-')).length).toBeLessThanOrEqual(2);

    // Replaying from zero (no compaction) gives the same state: compare with a fresh log of the same events.
    const plainDir = await mkdtemp(join(tmpdir(), 'secretlet-eventlog-plain-'));
    try {
      const plain = await FileEventLog.open({ dir: plainDir, fsync: 'never' });
      await plain.append(events);
      await plain.append(more);
      expect(serializeState(await restoreState(plain))).toEqual(serializeState(after));
      await plain.close();
    } finally {
      await rm(plainDir, { recursive: true, force: true });
    }
  });

  it('compaction with appends after the snapshotted state keeps those appends', async () => {
    const log = await openLog();
    const events = mountScript(5, 12);
    await log.append(events.slice(0, 8));
    const state = await restoreState(log);
    await log.append(events.slice(8));
    await log.compact(state);
    await closeLog(log);
    const reopened = await openLog();
    const replayed = await replayAll(reopened);
    expect(replayed.map((r) => r.seq)).toEqual(Array.from({ length: events.length - 8 }, (_v, i) => i + 9));
  });

  it('a crash after the snapshot is durable but before old segments are removed still opens to the same state', async () => {
    const log = await openLog({ maxSegmentBytes: 1500 });
    for (const event of mountScript(9, 15)) await log.append([event]);
    const state = await restoreState(log);
    await closeLog(log);
    const saved = new Map<string, Buffer>();
    for (const name of await segmentFiles()) saved.set(name, await readFile(join(dir, name)));

    const compacting = await openLog({ maxSegmentBytes: 1500 });
    await compacting.compact(state);
    await closeLog(compacting);
    // Put the removed segments back, as if the crash came right after the snapshot's rename, and
    // leave the temp file of a later snapshot that never completed.
    for (const [name, bytes] of saved) await writeFile(join(dir, name), bytes);
    await writeFile(join(dir, 'snapshot-0000000000000999.json.tmp'), '{"partial":');

    const reopened = await openLog();
    expect(reopened.openReport.removedFiles).toEqual(expect.arrayContaining(['snapshot-0000000000000999.json.tmp', ...saved.keys()]));
    expect(serializeState(await restoreState(reopened))).toEqual(serializeState(state));
    expect(await replayAll(reopened)).toEqual([]);
  });

  it('rejects a snapshot beyond the last record, and use after close', async () => {
    const log = await openLog();
    await log.append(mountScript(1, 1));
    const state = await restoreState(log);
    await expect(log.compact({ ...state, lastSeq: state.lastSeq + 1 })).rejects.toMatchObject({ reason: 'SnapshotAheadOfLog' });
    await closeLog(log);
    await expect(log.append(mountScript(1, 1))).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'EventLogClosed' });
  });

  it('group commit: appends made together share one write and one fsync; each resolves only after it', async () => {
    // The window is long so that all ten appends below (made in one synchronous run) land in it
    // however loaded the machine is; nothing here depends on how long anything takes.
    const log = await openLog({ fsync: 'group', groupCommitMs: 50 });
    const event = mountScript(4, 1)[0];
    if (event === undefined) throw new Error('empty script');
    const appends = Array.from({ length: 10 }, () => log.append([event]));
    const results = await Promise.all(appends);
    expect(results.map((r) => r[0]?.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(log.stats()).toMatchObject({ records: 10, batches: 1, fsyncs: 1 });

    const always = await FileEventLog.open({ dir: join(dir, 'always'), fsync: 'always' });
    opened.push(always);
    await Promise.all(Array.from({ length: 10 }, () => always.append([event])));
    // The first append is written at once; the nine made while it is being fsynced share the next fsync.
    expect(always.stats()).toMatchObject({ records: 10, batches: 2, fsyncs: 2 });

    const never = await FileEventLog.open({ dir: join(dir, 'never'), fsync: 'never' });
    opened.push(never);
    await never.append([event]);
    expect(never.stats()).toMatchObject({ records: 1, fsyncs: 0 });
  });

  it.each<FsyncPolicy>(['always', 'group'])('an append resolves only once its bytes were fdatasync-ed (fsync %s)', async (fsync) => {
    // Every datasync waits until the test lets it finish, so "resolved" can only follow a finished sync.
    const syncs: Array<{ release: () => void }> = [];
    const log = await FileEventLog.open({
      dir: join(dir, `synced-${fsync}`),
      fsync,
      groupCommitMs: 0,
      openSegment: async (path) => {
        const { open } = await import('node:fs/promises');
        const handle = await open(path, 'a', 0o600);
        return {
          write: handle.write.bind(handle) as typeof handle.write,
          close: () => handle.close(),
          datasync: () => handle.datasync().then(() => new Promise<void>((release) => syncs.push({ release }))),
        };
      },
    });
    opened.push(log);
    let resolved = false;
    const append = log.append(mountScript(1, 1)).then(() => (resolved = true));
    while (syncs.length === 0) await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false);
    syncs.shift()?.release();
    await append;
    expect(resolved).toBe(true);
  });

  it('an append with fsync never resolves without a sync', async () => {
    let syncCalls = 0;
    const log = await FileEventLog.open({
      dir: join(dir, 'unsynced'),
      fsync: 'never',
      openSegment: async (path) => {
        const { open } = await import('node:fs/promises');
        const handle = await open(path, 'a', 0o600);
        return { write: handle.write.bind(handle) as typeof handle.write, close: () => handle.close(), datasync: () => ((syncCalls += 1), handle.datasync()) };
      },
    });
    opened.push(log);
    await log.append(mountScript(1, 1));
    expect(syncCalls).toBe(0);
  });

  it('close waits for appends in flight', async () => {
    const log = await openLog({ fsync: 'group' });
    const events = mountScript(2, 5);
    const pending = log.append(events);
    await closeLog(log);
    await expect(pending).resolves.toHaveLength(events.length);
    expect((await replayAll(await openLog())).length).toBe(events.length);
  });
});
