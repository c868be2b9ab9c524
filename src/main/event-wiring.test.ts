import { appendFile, chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryEventLog } from '../adapters/eventlog/in-memory-event-log.js';
import { createLogger } from '../adapters/logging/logger.js';
import { toLoggedEvent } from '../core/events/events.js';
import type { LoggedEvent, NewEvent } from '../core/events/events.js';
import { sealJson, unsealJson } from '../adapters/eventlog/sealed-json.js';
import { serializeState } from '../core/events/projections.js';
import type { EventLog } from '../core/ports/event-log.js';
import { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import { EventJournal } from './event-journal.js';

const logger = createLogger({ level: 'silent' });
const hasher = { hash: (b: Uint8Array) => `h${b.length}` };

function published(n: number): NewEvent {
  return {
    type: 'MountPublished',
    payload: {
      mountKey: `uid-${n}/vol`,
      door: 'csi',
      pod: { namespace: 'ns', name: `p${n}`, uid: `uid-${n}` },
      serviceAccount: 'sa',
      secretProviderClass: 'spc',
      authMode: 'irsa',
      regions: ['us-east-1'],
      targetPath: `/t/${n}`,
      objects: [{ id: 'a', objectName: 'a', objectType: 'secretsmanager', version: 'v1', pinned: false, hash: 'x' }],
      secretObjects: [{ secretName: 's', type: 'Opaque', labels: {}, annotations: {}, data: [{ objectName: 'a', key: 'k' }] }],
    },
  };
}

/** A journal over `dir` with mounts 1-3 recorded, closed; returns the path of its one segment. */
async function logOfThree(dir: string): Promise<string> {
  const journal = await EventJournal.open({ stateDir: dir, fsync: 'always', logger, compactEvery: 0 });
  await journal.record([published(1), published(2), published(3)]);
  await journal.close();
  const segment = (await readdir(join(dir, 'eventlog'))).find((f) => f.startsWith('events-'))!;
  return join(dir, 'eventlog', segment);
}

function capturingLogger(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } }) };
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('EventJournal', () => {
  it('applies records in seq order even when appends resolve out of order, and notifies subscribers', async () => {
    const inner = new InMemoryEventLog();
    let releaseFirst: () => void = () => undefined;
    const gate = new Promise<void>((r) => (releaseFirst = r));
    let calls = 0;
    // The first append resolves only after the second one: the journal must still apply 1 before 2.
    const log: EventLog = {
      ...inner,
      snapshot: () => inner.snapshot(),
      replay: () => inner.replay(),
      compact: (s) => inner.compact(s),
      close: () => inner.close(),
      append: async (events) => {
        const n = calls++;
        const records = await inner.append(events);
        if (n === 0) await gate;
        return records;
      },
    };
    const journal = new EventJournal({ log, hasher, logger, compactEvery: 0 });
    const seen: number[] = [];
    journal.subscribe((r: LoggedEvent) => seen.push(r.seq));
    const first = journal.record([published(1)]);
    const second = journal.record([published(2)]);
    await second;
    expect(journal.state.lastSeq).toBe(0); // seq 2 waits for seq 1
    releaseFirst();
    await first;
    expect(journal.state.lastSeq).toBe(2);
    expect(seen).toEqual([1, 2]);
    expect(journal.state.mounts.size).toBe(2);
  });

  it('compacts every N records and reopens to the identical state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'journal-'));
    dirs.push(dir);
    const journal = await EventJournal.open({ stateDir: dir, fsync: 'never', logger, compactEvery: 5 });
    for (let n = 0; n < 23; n += 1) await journal.record([published(n)]);
    await journal.record([{ type: 'MountUnpublished', payload: { mountKey: 'uid-3/vol' } }]);
    const expected = serializeState(journal.state);
    await journal.close();
    const files = await readdir(join(dir, 'eventlog'));
    expect(files.filter((f) => f.startsWith('snapshot-'))).toHaveLength(1);
    const reopened = await EventJournal.open({ stateDir: dir, fsync: 'never', logger });
    expect(serializeState(reopened.state)).toEqual(expected);
    expect(reopened.state.mounts.size).toBe(22);
    await reopened.close();
  });

  it('cuts a torn tail on open and reports it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'journal-'));
    dirs.push(dir);
    const journal = await EventJournal.open({ stateDir: dir, fsync: 'always', logger, compactEvery: 0 });
    await journal.record([published(1), published(2)]);
    await journal.close();
    const segment = (await readdir(join(dir, 'eventlog'))).find((f) => f.startsWith('events-'))!;
    await appendFile(join(dir, 'eventlog', segment), '{"seq":3,"time":"2026-01-01T00:00:00.000Z","type":"MountUnpub');
    const reopened = await EventJournal.open({ stateDir: dir, fsync: 'always', logger });
    expect(reopened.openReport).toMatchObject({ droppedRecords: 1, reason: 'torn-line' });
    expect(reopened.openReport!.truncatedBytes).toBeGreaterThan(0);
    expect([...reopened.state.mounts.keys()].sort()).toEqual(['uid-1/vol', 'uid-2/vol']);
    // Appends continue right after the last good record.
    const [next] = await reopened.record([{ type: 'MountUnpublished', payload: { mountKey: 'uid-1/vol' } }]);
    expect(next?.seq).toBe(3);
    await reopened.close();
  });

  it('tightens a state directory that already existed with a looser mode to 0700', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'journal-'));
    dirs.push(dir);
    await chmod(dir, 0o755);
    const journal = await EventJournal.open({ stateDir: dir, fsync: 'never', logger });
    await journal.close();
    expect(((await stat(dir)).mode & 0o777).toString(8)).toBe('700');
  });

  describe('a damaged state directory', () => {
    it('is set aside untouched and the agent starts with an empty log, instead of refusing to start', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'journal-'));
      dirs.push(dir);
      const segment = await logOfThree(dir);
      // Damage record 2 (an acknowledged record with a good one after it): not a torn tail.
      const damaged = (await readFile(segment, 'utf8')).replace('"name":"p2"', '"name":"pX"');
      await writeFile(segment, damaged);
      const key = await readFile(join(dir, 'node-hash.key'));
      const seen = capturingLogger();
      const metrics = new AgentMetrics({ defaultMetrics: false });

      const journal = await EventJournal.open({ stateDir: dir, fsync: 'always', logger: seen.logger, metrics, now: () => new Date('2026-12-07T21:28:55.123Z') });

      expect(journal.state.mounts.size).toBe(0);
      const [first] = await journal.record([published(4)]);
      expect(first?.seq).toBe(1);
      await journal.close();
      const aside = join(dir, 'damaged-20261207T212855.123Z');
      expect(await readFile(join(aside, 'eventlog', segment.split('/').pop()!), 'utf8')).toBe(damaged);
      expect(await readFile(join(aside, 'node-hash.key'))).toEqual(key);
      const error = seen.lines.find((l) => l.level === 'error');
      expect(error).toMatchObject({ reason: 'SegmentCorrupt', setAside: aside, moved: ['eventlog', 'node-hash.key'] });
      expect(String(error?.msg)).toContain('set aside');
      expect(await metrics.registry.getSingleMetricAsString('secretlet_state_damaged_sets')).toContain('secretlet_state_damaged_sets 1');
    });

    it('sets aside a node key of the wrong size together with the log its hashes were made with', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'journal-'));
      dirs.push(dir);
      await logOfThree(dir);
      await writeFile(join(dir, 'node-hash.key'), 'short');
      const journal = await EventJournal.open({ stateDir: dir, fsync: 'always', logger, now: () => new Date('2026-12-07T00:00:00.000Z') });
      expect(journal.state.mounts.size).toBe(0);
      await journal.close();
      expect((await readFile(join(dir, 'node-hash.key'))).length).toBe(32);
      expect(await readFile(join(dir, 'damaged-20261207T000000.000Z', 'node-hash.key'), 'utf8')).toBe('short');
      expect(await readdir(join(dir, 'damaged-20261207T000000.000Z', 'eventlog'))).toHaveLength(1);
    });

    it('keeps the newest three set-aside logs, so a log that keeps breaking cannot fill the disk', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'journal-'));
      dirs.push(dir);
      for (const old of ['damaged-20261201T000000.000Z', 'damaged-20261202T000000.000Z', 'damaged-20261203T000000.000Z']) {
        await mkdir(join(dir, old, 'eventlog'), { recursive: true });
      }
      await writeFile(join(dir, 'node-hash.key'), 'short');
      const journal = await EventJournal.open({ stateDir: dir, fsync: 'never', logger, now: () => new Date('2026-12-07T00:00:00.000Z') });
      await journal.close();
      expect((await readdir(dir)).filter((n) => n.startsWith('damaged-')).sort()).toEqual([
        'damaged-20261202T000000.000Z',
        'damaged-20261203T000000.000Z',
        'damaged-20261207T000000.000Z',
      ]);
    });

    it('does not set aside a log it cannot open for another reason', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'journal-'));
      dirs.push(dir);
      await writeFile(join(dir, 'eventlog'), 'a file where the log directory should be');
      await expect(EventJournal.open({ stateDir: dir, fsync: 'never', logger })).rejects.toThrow();
      expect((await readdir(dir)).filter((n) => n.startsWith('damaged-'))).toEqual([]);
    });
  });

  describe('a log from a newer version (a rollback)', () => {
    /** A record as a newer version would write it: sealed, in sequence, of a type this one does not know. */
    function newerRecord(seq: number): string {
      return `${sealJson({ seq, time: '2026-12-08T00:00:00.000Z', type: 'MountQuarantined', mountKey: 'uid-2/vol', payload: { mountKey: 'uid-2/vol', why: 'x' } })}\n`;
    }

    it('keeps a record of an unknown type and the records after it, instead of setting the log aside', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'journal-'));
      dirs.push(dir);
      const segment = await logOfThree(dir);
      const unpublishFirst = toLoggedEvent({ type: 'MountUnpublished', payload: { mountKey: 'uid-1/vol' } }, 5, '2026-12-08T00:00:00.000Z');
      await appendFile(segment, newerRecord(4) + `${sealJson(unpublishFirst)}\n`);
      const before = await readFile(segment);
      const seen = capturingLogger();

      const journal = await EventJournal.open({ stateDir: dir, fsync: 'always', logger: seen.logger, compactEvery: 0 });

      expect([...journal.state.mounts.keys()].sort()).toEqual(['uid-2/vol', 'uid-3/vol']);
      expect(journal.openReport).toMatchObject({ truncatedBytes: 0, droppedRecords: 0 });
      const [next] = await journal.record([published(6)]);
      expect(next?.seq).toBe(6);
      await journal.close();
      expect((await readFile(segment)).subarray(0, before.length)).toEqual(before);
      expect((await readdir(dir)).filter((n) => n.startsWith('damaged-'))).toEqual([]);
      expect(seen.lines.find((l) => l.level === 'warn')).toMatchObject({ recordTypes: { MountQuarantined: 1 } });
    });

    it('does not cut a record of an unknown type at the end of the log as a torn tail', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'journal-'));
      dirs.push(dir);
      const segment = await logOfThree(dir);
      await appendFile(segment, newerRecord(4));
      const before = await readFile(segment);
      const journal = await EventJournal.open({ stateDir: dir, fsync: 'always', logger, compactEvery: 0 });
      expect(journal.openReport).toMatchObject({ truncatedBytes: 0, droppedRecords: 0 });
      expect(journal.state.lastSeq).toBe(4);
      const [next] = await journal.record([published(5)]);
      expect(next?.seq).toBe(5);
      await journal.close();
      expect((await readFile(segment)).subarray(0, before.length)).toEqual(before);
    });

    it('refuses to start over a snapshot of a newer format, and leaves the state dir as it is', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'journal-'));
      dirs.push(dir);
      const journal = await EventJournal.open({ stateDir: dir, fsync: 'always', logger, compactEvery: 2 });
      await journal.record([published(1), published(2), published(3)]);
      await journal.close();
      const logDir = join(dir, 'eventlog');
      const snapshot = (await readdir(logDir)).find((f) => f.startsWith('snapshot-'))!;
      const sealed = unsealJson((await readFile(join(logDir, snapshot), 'utf8')).trimEnd());
      if (!sealed.ok) throw new Error('the snapshot should unseal');
      const value = sealed.value as { state: { format: number } };
      await writeFile(join(logDir, snapshot), `${sealJson({ ...value, state: { ...value.state, format: 2 } })}\n`);
      const files = (await readdir(dir)).sort();

      for (let attempt = 0; attempt < 2; attempt++) {
        // The second attempt gets the same answer: the state-dir lock was released, nothing was moved.
        await expect(EventJournal.open({ stateDir: dir, fsync: 'always', logger })).rejects.toMatchObject({
          code: 'FAILED_PRECONDITION',
          reason: 'StateFromNewerVersion',
          message: expect.stringContaining('snapshot has format 2, written by a newer secretlet; this version reads format 1') as unknown,
        });
      }
      expect((await readdir(dir)).sort()).toEqual(files);
    });
  });
});
