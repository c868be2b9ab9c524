import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryEventLog } from '../adapters/eventlog/in-memory-event-log.js';
import { createLogger } from '../adapters/logging/logger.js';
import type { MountDoor, NewEvent } from '../core/events/events.js';
import type { ObjectVersion } from '../core/model.js';
import { EventJournal } from './event-journal.js';
import { PodStatusFollower } from './pod-status-follower.js';

const logger = createLogger({ level: 'silent' });
const hasher = { hash: (b: Uint8Array) => `h${b.length}` };

function object(id: string, version: string, jmesFiles: string[] = []) {
  return { id, objectName: id, objectType: 'secretsmanager' as const, version, pinned: false, hash: `hash-${version}`, jmesFiles };
}

function published(n: number, door: MountDoor = 'csi'): NewEvent {
  return {
    type: 'MountPublished',
    payload: {
      mountKey: `uid-${n}/vol`,
      door,
      pod: { namespace: 'ns', name: `p${n}`, uid: `uid-${n}` },
      serviceAccount: 'sa',
      secretProviderClass: 'spc',
      authMode: 'irsa',
      regions: ['us-east-1'],
      targetPath: `/t/${n}`,
      objects: [object('b', 'v1', ['b-user']), object('a', 'v1')],
      secretObjects: [],
    },
  };
}

function rotated(n: number, versionOfA: string): NewEvent {
  return { type: 'MountUpdated', payload: { mountKey: `uid-${n}/vol`, objects: [object('b', 'v1', ['b-user']), object('a', versionOfA)], cause: 'rotation' } };
}

/** A status store that remembers every patch and fails the first `failures` calls. */
class FakeStatuses {
  readonly patches: Array<{ namespace: string; name: string; objects: ObjectVersion[] }> = [];
  /** Every call, failed ones included. */
  calls = 0;
  constructor(private failures = 0) {}
  setObjects(namespace: string, name: string, objects: readonly ObjectVersion[]): Promise<boolean> {
    this.calls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(new Error('the server is currently unable to handle the request'));
    }
    this.patches.push({ namespace, name, objects: objects.map((o) => ({ id: o.id, version: o.version })) });
    return Promise.resolve(true);
  }
}

async function journalWith(events: NewEvent[]): Promise<EventJournal> {
  const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
  for (const e of events) await journal.record([e]);
  return journal;
}

describe('PodStatusFollower', () => {
  it('patches the status of a kubelet-door mount whose versions a rotation moved, with every file of its last update', async () => {
    const journal = await journalWith([published(1), published(2, 'provider')]);
    const store = new FakeStatuses();
    const follower = new PodStatusFollower({ journal, store, logger, concurrency: 1 });
    follower.start();

    await journal.record([rotated(1, 'v2'), rotated(1, 'v3'), rotated(2, 'v2')]);
    await follower.idle();
    await follower.stop();

    // The provider door's status belongs to the driver; uid-1's two updates may coalesce into one patch.
    expect(store.patches.length).toBeGreaterThanOrEqual(1);
    expect(store.patches.every((p) => p.name === 'p1-ns-spc' && p.namespace === 'ns')).toBe(true);
    expect(store.patches.at(-1)?.objects).toEqual([
      { id: 'a', version: 'v3' },
      { id: 'b', version: 'v1' },
      { id: 'b-user', version: 'v1' },
    ]);
  });

  it('ignores an update that changed content but no version', async () => {
    const journal = await journalWith([published(1)]);
    const store = new FakeStatuses();
    const follower = new PodStatusFollower({ journal, store, logger });
    follower.start();

    const sameVersions: NewEvent = { type: 'MountUpdated', payload: { mountKey: 'uid-1/vol', objects: [{ ...object('b', 'v1', ['b-user']), hash: 'other' }, object('a', 'v1')], cause: 'rotation' } };
    await journal.record([sameVersions]);
    await follower.idle();
    await follower.stop();

    expect(store.patches).toEqual([]);
  });

  it('leaves a republish that changed the files to the door, and patches one that only moved versions', async () => {
    const journal = await journalWith([published(1), published(2)]);
    const store = new FakeStatuses();
    const follower = new PodStatusFollower({ journal, store, logger });
    follower.start();

    const newBytes: NewEvent = { type: 'MountUpdated', payload: { mountKey: 'uid-1/vol', objects: [object('b', 'v1', ['b-user']), object('a', 'v2')], cause: 'republish' } };
    const sameBytes: NewEvent = { type: 'MountUpdated', payload: { mountKey: 'uid-2/vol', objects: [object('b', 'v1', ['b-user']), { ...object('a', 'v2'), hash: 'hash-v1' }], cause: 'republish' } };
    await journal.record([newBytes, sameBytes]);
    await follower.idle();
    await follower.stop();

    expect(store.patches.map((p) => p.name)).toEqual(['p2-ns-spc']);
  });

  it('leaves the status of a mount logged without jmesPath files (an older agent) as it is', async () => {
    const journal = await journalWith([published(1)]);
    const store = new FakeStatuses();
    const follower = new PodStatusFollower({ journal, store, logger });
    follower.start();

    const { jmesFiles: _unknown, ...older } = object('a', 'v2');
    await journal.record([{ type: 'MountUpdated', payload: { mountKey: 'uid-1/vol', objects: [object('b', 'v1', ['b-user']), older], cause: 'rotation' } }]);
    await follower.idle();
    await follower.stop();

    expect(store.patches).toEqual([]);
  });

  it('holds its patches while the work that goes first (a rotation cycle) runs', async () => {
    const journal = await journalWith([published(1)]);
    const store = new FakeStatuses();
    let finishCycle: () => void = () => undefined;
    let cycle: Promise<void> | undefined = new Promise<void>((r) => (finishCycle = r));
    let asked = 0;
    const follower = new PodStatusFollower({ journal, store, logger, goesFirst: () => ((asked += 1), cycle) });
    follower.start();

    const askedBefore = asked;
    await journal.record([rotated(1, 'v2')]);
    // The follower asked about the cycle with the patch queued; then give it every chance to patch
    // anyway: a few turns of the event loop, which any promise or immediate work would have used.
    await turns(10, () => asked > askedBefore);
    expect(asked).toBeGreaterThan(askedBefore);
    await turns(5);
    expect(store.patches).toEqual([]);
    cycle = undefined;
    finishCycle();
    await follower.idle();
    await follower.stop();

    expect(store.patches.map((p) => p.name)).toEqual(['p1-ns-spc']);
  });

  it('after a restart, patches again every kubelet-door mount that changed since it was published', async () => {
    // The log as a crash left it: the rotation was recorded, its patch may never have been sent.
    const journal = await journalWith([published(1), published(2), rotated(2, 'v2'), published(3, 'provider'), rotated(3, 'v2')]);
    const store = new FakeStatuses();
    const follower = new PodStatusFollower({ journal, store, logger });

    follower.start();
    await follower.idle();
    await follower.stop();

    expect(store.patches.map((p) => p.name)).toEqual(['p2-ns-spc']);
  });

  it('by default keeps retrying a failing patch until the API server takes it', async () => {
    const journal = await journalWith([published(1)]);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const store = new FakeStatuses(9);
    const follower = new PodStatusFollower({ journal, store, logger, retryDelayMs: () => 1 });
    follower.start();

    await journal.record([rotated(1, 'v2')]);
    await follower.idle();
    expect(store.calls).toBe(1); // failed, its retry waits on the clock
    await vi.runAllTimersAsync(); // every retry, until none is left waiting
    await follower.idle();
    expect(store.calls).toBe(10);
    await follower.stop();

    expect(follower.report).toEqual({ patched: 1, missing: 0, failed: 0 });
    expect(store.patches.map((p) => p.name)).toEqual(['p1-ns-spc']);
  });

  it('retries a failed patch with backoff and gives up after the last attempt', async () => {
    const journal = await journalWith([published(1), published(2)]);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const store = new FakeStatuses(3);
    const delays: number[] = [];
    const follower = new PodStatusFollower({ journal, store, logger, concurrency: 1, maxAttempts: 2, retryDelayMs: (n) => (delays.push(n), 1) });
    follower.start();

    await journal.record([rotated(1, 'v2')]);
    await follower.idle();
    await vi.runAllTimersAsync();
    await follower.idle();
    expect(follower.report).toEqual({ patched: 0, missing: 0, failed: 1 });
    await journal.record([rotated(2, 'v2')]);
    await follower.idle();
    await vi.runAllTimersAsync();
    await follower.idle();
    await follower.stop();

    // uid-1: attempt 1 fails, retry 1 fails, given up; uid-2: attempt 1 fails, retry succeeds.
    expect(delays).toEqual([1, 1]);
    expect(follower.report).toEqual({ patched: 1, missing: 0, failed: 1 });
    expect(store.patches.map((p) => p.name)).toEqual(['p2-ns-spc']);
  });
});

/** Waits `n` turns of the event loop (setImmediate), or fewer once `done` holds. */
async function turns(n: number, done: () => boolean = () => false): Promise<void> {
  for (let i = 0; i < n && !done(); i += 1) await new Promise((r) => setImmediate(r));
}

function unpublished(n: number): NewEvent {
  return { type: 'MountUnpublished', payload: { mountKey: `uid-${n}/vol` } };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('PodStatusFollower after an unpublish', () => {
  it('forgets the failed patches of mounts that are unpublished, and retries none of them', async () => {
    const n = 20;
    const journal = await journalWith(Array.from({ length: n }, (_, i) => published(i + 1)));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const store = new FakeStatuses(Infinity); // the API server refuses every patch
    const follower = new PodStatusFollower({ journal, store, logger, retryDelayMs: () => 1_000 });
    follower.start();
    try {
      await journal.record(Array.from({ length: n }, (_, i) => rotated(i + 1, 'v2')));
      await follower.idle();
      expect(store.calls).toBe(n);
      expect(follower.retrying).toBe(n);

      await journal.record(Array.from({ length: n }, (_, i) => unpublished(i + 1)));
      expect(follower.retrying).toBe(0);
      await vi.runAllTimersAsync();
      expect(store.calls).toBe(n);
      expect(vi.getTimerCount()).toBe(0);
      expect(follower.retrying).toBe(0);
    } finally {
      await follower.stop();
    }
  });

  it('forgets a patch that failed after its mount was unpublished, once its retry finds the mount gone', async () => {
    const journal = await journalWith([published(1)]);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let fail: (e: Error) => void = () => undefined;
    const store = { calls: 0, setObjects: (): Promise<boolean> => ((store.calls += 1), new Promise<boolean>((_, reject) => (fail = reject))) };
    const follower = new PodStatusFollower({ journal, store, logger, retryDelayMs: () => 1_000 });
    follower.start();
    try {
      await journal.record([rotated(1, 'v2')]);
      expect(store.calls).toBe(1); // in flight
      await journal.record([unpublished(1)]);
      fail(new Error('the server is currently unable to handle the request'));
      await follower.idle();
      expect(follower.retrying).toBe(1); // the failure came after the unpublish: its retry is what finds the mount gone

      await vi.runAllTimersAsync();
      expect(store.calls).toBe(1);
      expect(vi.getTimerCount()).toBe(0);
      expect(follower.retrying).toBe(0);
    } finally {
      await follower.stop();
    }
  });
});
