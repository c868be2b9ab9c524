/**
 * The EventLog port's contract, run against both implementations: FileEventLog (the node's disk)
 * and InMemoryEventLog (the fake unit tests use), so the fake cannot drift from the real log.
 * FileEventLog's own promises (durability, torn tails, rotation) are in
 * test/adapters/eventlog/file-event-log.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewEvent, ReplayedRecord } from '../../core/events/events.js';
import { applyEvent, emptyState, serializeState } from '../../core/events/projections.js';
import { restoreState } from '../../core/events/restore.js';
import type { EventLog } from '../../core/ports/event-log.js';
import { FileEventLog } from './file-event-log.js';
import { InMemoryEventLog } from './in-memory-event-log.js';

function unpublished(n: number): NewEvent {
  return { type: 'MountUnpublished', payload: { mountKey: `uid-${n}/vol` } };
}

function published(n: number): NewEvent {
  return {
    type: 'MountPublished',
    payload: {
      mountKey: `uid-${n}/vol`,
      door: 'provider',
      pod: { namespace: 'default', name: `pod-${n}`, uid: `uid-${n}` },
      serviceAccount: 'default',
      secretProviderClass: 'spc',
      authMode: 'irsa',
      regions: ['us-east-1'],
      targetPath: `/var/lib/kubelet/pods/uid-${n}/volumes/kubernetes.io~csi/v/mount`,
      objects: [{ id: 'db', objectName: 'db', objectType: 'secretsmanager', version: 'v1', pinned: false, hash: 'a'.repeat(32) }],
      secretObjects: [],
    },
  };
}

const dirs: string[] = [];
const logs: EventLog[] = [];
afterEach(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Implementation {
  name: string;
  open(options?: { now?: () => number }): Promise<EventLog>;
}

const IMPLEMENTATIONS: Implementation[] = [
  { name: 'InMemoryEventLog', open: async (options = {}) => new InMemoryEventLog(options) },
  {
    name: 'FileEventLog',
    open: async (options = {}) => {
      const dir = await mkdtemp(join(tmpdir(), 'secretlet-eventlog-contract-'));
      dirs.push(dir);
      return FileEventLog.open({ dir, fsync: 'always', ...options });
    },
  },
];

async function replayed(log: EventLog): Promise<ReplayedRecord[]> {
  const out: ReplayedRecord[] = [];
  for await (const record of log.replay()) out.push(record);
  return out;
}

describe.each(IMPLEMENTATIONS)('EventLog contract: $name', (impl) => {
  async function open(options?: { now?: () => number }): Promise<EventLog> {
    const log = await impl.open(options);
    logs.push(log);
    return log;
  }

  it('gives concurrent appends consecutive seqs in call order, with time and mountKey', async () => {
    const log = await open({ now: () => Date.UTC(2026, 4, 1) });
    const [a, b] = await Promise.all([log.append([published(1), published(2)]), log.append([unpublished(1)])]);
    expect(a?.map((r) => r.seq)).toEqual([1, 2]);
    expect(b).toEqual([{ seq: 3, time: '2026-05-01T00:00:00.000Z', type: 'MountUnpublished', mountKey: 'uid-1/vol', payload: { mountKey: 'uid-1/vol' } }]);
    expect((await replayed(log)).map((r) => [r.seq, r.type, r.type === 'Unrecognized' ? r.recordType : r.mountKey])).toEqual([
      [1, 'MountPublished', 'uid-1/vol'],
      [2, 'MountPublished', 'uid-2/vol'],
      [3, 'MountUnpublished', 'uid-1/vol'],
    ]);
  });

  it('replays everything appended, and after compaction the snapshot plus the rest give the same state', async () => {
    const log = await open();
    await log.append([published(1), published(2), published(3)]);
    const before = await restoreState(log);
    await log.compact(before);
    await log.append([unpublished(2)]);
    expect((await replayed(log)).map((r) => r.seq)).toEqual([4]);
    expect(log.snapshot()).toEqual(before);
    const after = await restoreState(log);
    const expected = applyEvent(before, { seq: 4, time: '', type: 'MountUnpublished', mountKey: 'uid-2/vol', payload: { mountKey: 'uid-2/vol' } });
    expect(serializeState(after)).toEqual(serializeState(expected));
    expect([...after.mounts.keys()]).toEqual(['uid-1/vol', 'uid-3/vol']);
  });

  it('refuses a snapshot beyond its last record and any use after close', async () => {
    const log = await open();
    await log.append([published(1)]);
    await expect(log.compact({ ...emptyState(), lastSeq: 5 })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'SnapshotAheadOfLog' });
    await log.close();
    await expect(log.append([published(2)])).rejects.toMatchObject({ reason: 'EventLogClosed' });
  });

  it('hands out copies: changing a returned record does not change the log', async () => {
    const log = await open();
    const [record] = await log.append([published(1)]);
    if (record?.type === 'MountPublished') record.payload.pod.name = 'changed';
    const state = await restoreState(log);
    expect(state.mounts.get('uid-1/vol')?.pod.name).toBe('pod-1');
  });
});
