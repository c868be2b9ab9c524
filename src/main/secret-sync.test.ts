import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryEventLog } from '../adapters/eventlog/in-memory-event-log.js';
import type { OwnerChange, SecretApplyResult } from '../adapters/kubernetes/secret-writer.js';
import { createLogger } from '../adapters/logging/logger.js';
import type { NewEvent } from '../core/events/events.js';
import type { DesiredSecret } from '../core/secrets/desired-secret.js';
import { EventJournal } from './event-journal.js';
import { SecretSync } from './secret-sync.js';
import type { SecretStore } from './secret-sync.js';

const logger = createLogger({ level: 'silent' });
const hasher = { hash: (b: Uint8Array) => `h${b.length}` };

const published: NewEvent = {
  type: 'MountPublished',
  payload: {
    mountKey: 'uid-1/vol',
    door: 'csi',
    pod: { namespace: 'shop', name: 'web-0', uid: 'uid-1' },
    serviceAccount: 'web',
    secretProviderClass: 'db',
    authMode: 'irsa',
    regions: ['us-east-1'],
    targetPath: '/t/1',
    objects: [{ id: 'db-password', objectName: 'db-password', objectType: 'secretsmanager', version: 'v1', pinned: false, hash: 'x', jmesFiles: [] }],
    secretObjects: [{ secretName: 'db', type: 'Opaque', labels: {}, annotations: {}, data: [{ objectName: 'db-password', key: 'password' }] }],
  },
};

/** An API server's Secrets, reduced to what the writer answers: a Secret someone deleted is created again. */
class FakeSecrets {
  readonly stored = new Map<string, DesiredSecret>();
  readonly applied: SecretApplyResult[] = [];
  apply(desired: DesiredSecret, _owners: OwnerChange): Promise<SecretApplyResult> {
    const key = `${desired.namespace}/${desired.name}`;
    const result: SecretApplyResult = !this.stored.has(key) ? 'created' : JSON.stringify(this.stored.get(key)) === JSON.stringify(desired) ? 'unchanged' : 'updated';
    this.stored.set(key, desired);
    this.applied.push(result);
    return Promise.resolve(result);
  }
  release(): Promise<SecretApplyResult> {
    return Promise.resolve('absent');
  }
}

/** A sync over `journal` writing into `store`, whose mount's files hold db-password; not started. */
function syncOver(journal: EventJournal, store: FakeSecrets, resyncIntervalMs: number): SecretSync {
  return new SecretSync({
    journal,
    store,
    events: { warning: () => Promise.resolve(true) },
    readFiles: () => Promise.resolve(new Map([['db-password', new TextEncoder().encode('s3cr3t')]])),
    logger,
    resyncIntervalMs,
  });
}

/** A sync over one published mount whose SPC asks for Secret shop/db, started. */
async function startSync(resyncIntervalMs: number): Promise<{ journal: EventJournal; store: FakeSecrets; sync: SecretSync }> {
  const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
  await journal.record([published]);
  const store = new FakeSecrets();
  const sync = syncOver(journal, store, resyncIntervalMs);
  sync.start();
  return { journal, store, sync };
}

describe('SecretSync resync', () => {
  it('writes a synced Secret again after it was deleted, and appends nothing while it is intact', async () => {
    useFakeClock();
    const { journal, store, sync } = await startSync(20);
    try {
      // The first sync, then the resync pass due at start: the Secret is written, then found intact.
      await settle();
      expect(journal.state.secrets.get('shop/db')?.synced).toBeDefined();
      expect(store.applied).toEqual(['created', 'unchanged']);
      const seqAfterFirstSync = journal.state.lastSeq;
      // Intact: rechecked at each interval, nothing written, nothing appended to the log.
      await vi.advanceTimersByTimeAsync(19);
      expect(store.applied).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(store.applied).toEqual(['created', 'unchanged', 'unchanged']);
      expect(journal.state.lastSeq).toBe(seqAfterFirstSync);

      store.stored.clear(); // kubectl delete secret db
      const before = store.applied.length;
      await vi.advanceTimersByTimeAsync(20); // the next resync pass

      expect(store.applied.slice(before)).toEqual(['created']);
      expect(new TextDecoder().decode(store.stored.get('shop/db')?.data['password'])).toBe('s3cr3t');
    } finally {
      await sync.stop();
    }
  });

  it('after a restart, writes again at once a synced Secret deleted while the agent was down (not at the first interval)', async () => {
    useFakeClock();
    const { journal, store, sync } = await startSync(60 * 60 * 1000);
    await settle();
    expect(journal.state.secrets.get('shop/db')?.synced).toBeDefined();
    await sync.stop();
    store.stored.clear(); // deleted while no agent ran
    // A new agent on the same log: the Secret is synced and not pending, yet it is checked at start.
    const restarted = syncOver(journal, store, 60 * 60 * 1000);
    const before = store.applied.length;
    restarted.start();
    try {
      await settle(); // the clock does not move: written at start, not at the first interval
      expect(store.applied.slice(before)).toEqual(['created']);
      expect(new TextDecoder().decode(store.stored.get('shop/db')?.data['password'])).toBe('s3cr3t');
    } finally {
      await restarted.stop();
    }
  });

  it('does not recheck anything with the resync off, however long it runs', async () => {
    useFakeClock();
    const { store, sync } = await startSync(0);
    try {
      await settle();
      expect(store.applied).toEqual(['created']);
      await vi.advanceTimersByTimeAsync(24 * HOUR);
      expect(store.applied).toEqual(['created']);
    } finally {
      await sync.stop();
    }
  });
});

const HOUR = 3_600_000;

/** setTimeout, clearTimeout and Date on a fake clock, moved only by the test; restored after each test. */
function useFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 1_000_000 });
}
afterEach(() => {
  vi.useRealTimers();
});

/** Lets every promise chain that is ready run, without moving the fake clock. */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

/** An API server where someone else's Secret of the same name is in the way until `conflict` is cleared. */
class ConflictingSecrets extends FakeSecrets {
  conflict = true;
  /** When each write was tried (ms since the epoch). */
  readonly tries: number[] = [];
  override apply(desired: DesiredSecret, owners: OwnerChange): Promise<SecretApplyResult> {
    this.tries.push(Date.now());
    if (this.conflict) {
      this.applied.push('unmanaged');
      return Promise.resolve('unmanaged');
    }
    return super.apply(desired, owners);
  }
}

/** A logger whose lines a test can read. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; messages: () => string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  return { logger, messages: () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg) };
}

describe('SecretSync permanent failures', () => {
  it('retries a Secret blocked by an unmanaged one at the resync interval, with one record and one log line for the repeated reason', async () => {
    useFakeClock();
    const { logger: captured, messages } = capturingLogger();
    const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
    await journal.record([published]);
    const store = new ConflictingSecrets();
    const sync = new SecretSync({
      journal,
      store,
      events: { warning: () => Promise.resolve(true) },
      readFiles: () => Promise.resolve(new Map([['db-password', new TextEncoder().encode('s3cr3t')]])),
      logger: captured,
      initialBackoffMs: 1,
      resyncIntervalMs: 30,
    });
    const started = Date.now();
    sync.start();
    try {
      await settle();
      expect(store.tries).toEqual([started]);
      // Retried at the resync interval, not in a tight loop or on the fast (1 ms) retry schedule:
      // nothing 1 ms before each interval ends, one try when it does.
      for (let n = 1; n <= 3; n++) {
        await vi.advanceTimersByTimeAsync(29);
        expect(store.tries).toHaveLength(n);
        await vi.advanceTimersByTimeAsync(1);
        expect(store.tries).toHaveLength(n + 1);
      }
      expect(store.tries.map((t) => t - started)).toEqual([0, 30, 60, 90]);
      // The same reason again: no new SecretSyncFailed record, no new log line.
      expect(journal.state.lastSeq).toBe(2);
      expect(journal.state.secrets.get('shop/db')?.lastFailure?.reason).toBe('SecretNotManaged');
      expect(messages().filter((m) => m === 'secret sync failed')).toHaveLength(1);

      store.conflict = false; // kubectl delete secret db (the unmanaged one)
      await vi.advanceTimersByTimeAsync(30);
      // The retry due at 120 writes it (the resync pass due then too may check it once more).
      expect(store.tries.slice(0, 5).map((t) => t - started)).toEqual([0, 30, 60, 90, 120]);
      expect(store.applied.slice(0, 5)).toEqual(['unmanaged', 'unmanaged', 'unmanaged', 'unmanaged', 'created']);
      expect(journal.state.secrets.get('shop/db')?.synced).toBeDefined();
      expect(new TextDecoder().decode(store.stored.get('shop/db')?.data['password'])).toBe('s3cr3t');
      expect(journal.state.secrets.get('shop/db')?.lastFailure).toBeUndefined();
    } finally {
      await sync.stop();
    }
  });

  it('a synced Secret replaced by an unmanaged one is recorded once, however many resyncs find it so', async () => {
    useFakeClock();
    const { logger: captured, messages } = capturingLogger();
    const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
    await journal.record([published]);
    const store = new ConflictingSecrets();
    store.conflict = false;
    const sync = new SecretSync({
      journal,
      store,
      events: { warning: () => Promise.resolve(true) },
      readFiles: () => Promise.resolve(new Map([['db-password', new TextEncoder().encode('s3cr3t')]])),
      logger: captured,
      resyncIntervalMs: 20,
    });
    sync.start();
    try {
      await settle();
      expect(journal.state.secrets.get('shop/db')?.synced).toBeDefined();
      const seqAfterSync = journal.state.lastSeq;
      store.conflict = true; // someone replaced it with a Secret of their own
      const before = store.tries.length;
      await vi.advanceTimersByTimeAsync(3 * 20); // three resync intervals
      expect(store.tries.length).toBeGreaterThanOrEqual(before + 3);
      expect(journal.state.lastSeq).toBe(seqAfterSync + 1);
      expect(messages().filter((m) => m === 'secret sync failed')).toHaveLength(1);
    } finally {
      await sync.stop();
    }
  });
});

type Published = Extract<NewEvent, { type: 'MountPublished' }>;

/** Pod `web-<i>` (uid `uid-<i>`) mounts the SPC that asks for shop/db. */
function mountOf(i: number): NewEvent {
  const base = (published as Published).payload;
  return { type: 'MountPublished', payload: { ...base, mountKey: `uid-${i}/vol`, pod: { namespace: 'shop', name: `web-${i}`, uid: `uid-${i}` }, targetPath: `/t/${i}` } };
}

function unmountOf(i: number): NewEvent {
  return { type: 'MountUnpublished', payload: { mountKey: `uid-${i}/vol` } };
}

/** An API server that refuses every write while `down`, and remembers the owner change of each write tried. */
class FlakySecrets extends FakeSecrets {
  down = false;
  readonly changes: Array<{ pods: string[]; released: string[] }> = [];
  override apply(desired: DesiredSecret, owners: OwnerChange): Promise<SecretApplyResult> {
    this.changes.push({ pods: owners.pods.map((p) => p.uid), released: [...owners.released].sort() });
    if (this.down) return Promise.reject(new Error('the server is currently unable to handle the request'));
    return super.apply(desired, owners);
  }
  /** The uids each release took out. */
  readonly releases: string[][] = [];
  override release(_namespace?: string, _name?: string, released: ReadonlySet<string> = new Set()): Promise<SecretApplyResult> {
    this.releases.push([...released].sort());
    return super.release();
  }
}

function flakySync(journal: EventJournal, store: SecretStore): SecretSync {
  return new SecretSync({
    journal,
    store,
    events: { warning: () => Promise.resolve(true) },
    readFiles: () => Promise.resolve(new Map([['db-password', new TextEncoder().encode('s3cr3t')]])),
    logger,
    random: () => 0.5,
    resyncIntervalMs: 0,
  });
}

/** Pods 1..n replace each other one by one (a Deployment rolling on this node), starting from pod `from`. */
async function roll(journal: EventJournal, from: number, to: number): Promise<void> {
  for (let i = from + 1; i <= to; i++) {
    await journal.record([mountOf(i)]);
    await journal.record([unmountOf(i - 1)]);
    await settle(); // each new desired state is tried (and fails) before the next pod comes
  }
}

describe('SecretSync released owners', () => {
  it('remembers no pod that came and went while every write failed, however many a Deployment rolls', async () => {
    useFakeClock();
    const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
    await journal.record([mountOf(0)]);
    const store = new FlakySecrets();
    const sync = flakySync(journal, store);
    sync.start();
    try {
      await settle();
      expect(journal.state.secrets.get('shop/db')?.synced).toBeDefined(); // written with pod 0 as owner
      store.down = true; // and from now on it fails for good
      await roll(journal, 0, 1_000);
      await vi.advanceTimersByTimeAsync(60_000);

      const failed = store.changes.slice(1);
      expect(failed.length).toBeGreaterThanOrEqual(1_000);
      // Only pod 0 was ever listed as an owner: it is the one uid worth remembering.
      expect(new Set(failed.flatMap((c) => c.released))).toEqual(new Set(['uid-0']));
      expect(failed.at(-1)).toEqual({ pods: ['uid-1000'], released: ['uid-0'] });
    } finally {
      await sync.stop();
    }
  });

  it('takes out at the next successful write the owners a write listed, before a restart too, and no pod that came and went between failures', async () => {
    useFakeClock();
    // The log a previous run left: pod 0's Secret written (the restart case, known from the log only).
    const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
    await journal.record([mountOf(0)]);
    const changedSeq = journal.state.secrets.get('shop/db')!.changedSeq;
    await journal.record([{ type: 'SecretSynced', payload: { namespace: 'shop', secretName: 'db', mountKeys: ['uid-0/vol'], dataHash: 'h', basisSeq: changedSeq } }]);
    const store = new FlakySecrets();
    store.down = true;
    const sync = flakySync(journal, store);
    sync.start();
    try {
      await roll(journal, 0, 10);
      store.down = false;
      await vi.advanceTimersByTimeAsync(10_000); // past the longest backoff
      expect(store.changes.at(-1)).toEqual({ pods: ['uid-10'], released: ['uid-0'] });
      expect(journal.state.secrets.get('shop/db')?.synced?.mountKeys).toEqual(['uid-10/vol']);

      // Pod 10 was listed by a write of this run.
      store.down = true;
      await roll(journal, 10, 20);
      store.down = false;
      await vi.advanceTimersByTimeAsync(10_000);
      expect(store.changes.at(-1)).toEqual({ pods: ['uid-20'], released: ['uid-10'] });
      expect(journal.state.secrets.get('shop/db')?.synced?.mountKeys).toEqual(['uid-20/vol']);
    } finally {
      await sync.stop();
    }
  });
});

/** A sync over FlakySecrets whose reads of the mount's files wait, after `hold()`, until `open()`. */
function gatedSync(journal: EventJournal, store: FlakySecrets): { sync: SecretSync; hold: () => void; open: () => void } {
  let open: () => void = () => undefined;
  let gate = Promise.resolve();
  const sync = new SecretSync({
    journal,
    store,
    events: { warning: () => Promise.resolve(true) },
    readFiles: async () => {
      await gate;
      return new Map([['db-password', new TextEncoder().encode('s3cr3t')]]);
    },
    logger,
    resyncIntervalMs: 0,
  });
  return {
    sync,
    hold: () => {
      gate = new Promise<void>((r) => (open = r));
    },
    open: () => {
      open();
      gate = Promise.resolve();
    },
  };
}

describe('SecretSync owners that leave while their Secret is written', () => {
  it('takes out at the next write a pod that the write in flight listed after it had left', async () => {
    useFakeClock();
    const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
    await journal.record([mountOf(0)]);
    const store = new FlakySecrets();
    const { sync, hold, open } = gatedSync(journal, store);
    sync.start();
    try {
      await settle();
      expect(store.changes).toEqual([{ pods: ['uid-0'], released: [] }]);
      hold();
      await journal.record([mountOf(1)]); // the write in flight lists pods 0 and 1 ...
      await settle();
      await journal.record([unmountOf(1)]); // ... and pod 1 has left before it is sent
      open();
      await settle();
      expect(store.changes.slice(1)).toEqual([
        { pods: ['uid-0', 'uid-1'], released: [] },
        { pods: ['uid-0'], released: ['uid-1'] },
      ]);
    } finally {
      await sync.stop();
    }
  });

  it('releases a Secret whose last pod left while its first write was in flight', async () => {
    useFakeClock();
    const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
    await journal.record([mountOf(0)]);
    const store = new FlakySecrets();
    const { sync, hold, open } = gatedSync(journal, store);
    hold();
    sync.start();
    try {
      await settle();
      await journal.record([unmountOf(0)]); // no pod here asks for it, and it was never synced
      open();
      await settle();
      // Written all the same (pod 0 may already be marked released: a write before this start could
      // have listed it), then released.
      expect(store.changes.map((c) => c.pods)).toEqual([['uid-0']]);
      expect(store.releases).toEqual([['uid-0']]);
    } finally {
      await sync.stop();
    }
  });
});

describe('SecretSync releases what it wrote', () => {
  it('releases a Secret wanted again after a failed release, whose new write failed before its pod left too', async () => {
    useFakeClock();
    const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
    await journal.record([mountOf(0)]);
    const store = new FlakyReleases();
    const sync = flakySync(journal, store);
    sync.start();
    try {
      await settle();
      expect(store.changes).toEqual([{ pods: ['uid-0'], released: [] }]); // written with pod 0 as owner
      store.releaseDown = true;
      await journal.record([unmountOf(0)]);
      await settle();
      expect(store.releases).toEqual([['uid-0']]); // tried, and failed
      store.down = true;
      await journal.record([mountOf(1)]); // wanted again: its write fails ...
      await settle();
      await journal.record([unmountOf(1)]); // ... and its pod goes too
      store.releaseDown = false;
      await vi.advanceTimersByTimeAsync(60_000);
      // Pod 0 is still listed in the Secret: the release is tried again and takes it out.
      expect(store.releases.at(-1)).toEqual(['uid-0']);
      expect(store.releasesSucceeded).toBe(1);
    } finally {
      await sync.stop();
    }
  });
});

/** FlakySecrets whose releases fail while `releaseDown`. */
class FlakyReleases extends FlakySecrets {
  releaseDown = false;
  releasesSucceeded = 0;
  override release(namespace?: string, name?: string, released: ReadonlySet<string> = new Set()): Promise<SecretApplyResult> {
    const tried = super.release(namespace, name, released);
    if (this.releaseDown) return Promise.reject(new Error('the server is currently unable to handle the request'));
    this.releasesSucceeded += 1;
    return tried;
  }
}

/** An API server on which every release of a Secret fails (an outage, or a 403 that lasts). */
class UnreleasableSecrets extends FakeSecrets {
  failing = true;
  /** When each release was tried (ms since the epoch). */
  readonly releases: number[] = [];
  override release(): Promise<SecretApplyResult> {
    this.releases.push(Date.now());
    return this.failing ? Promise.reject(new Error('secrets "db" is forbidden')) : Promise.resolve('deleted');
  }
}

describe('SecretSync release failures', () => {
  it('retries a failing release on the same backoff with jitter as a failing write, one log line per try', async () => {
    useFakeClock();
    const { logger: captured, messages } = capturingLogger();
    const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
    await journal.record([published]);
    const store = new UnreleasableSecrets();
    const initialBackoffMs = 200;
    const maxBackoffMs = 10_000;
    const random = (): number => 0.5;
    const sync = new SecretSync({
      journal,
      store,
      events: { warning: () => Promise.resolve(true) },
      readFiles: () => Promise.resolve(new Map([['db-password', new TextEncoder().encode('s3cr3t')]])),
      logger: captured,
      initialBackoffMs,
      maxBackoffMs,
      random,
      resyncIntervalMs: 0,
    });
    sync.start();
    try {
      await settle();
      expect(journal.state.secrets.get('shop/db')?.synced).toBeDefined();
      const started = Date.now();
      await journal.record([{ type: 'MountUnpublished', payload: { mountKey: 'uid-1/vol' } }]); // no pod here asks for it
      await vi.advanceTimersByTimeAsync(60_000);

      // The write's schedule, worked out by hand for initial 200 ms, max 10 s and random 0.5 (jitter
      // factor 0.75): waits of 150, 300, 600, 1_200, 2_400, 4_800, then 7_500 (the 10 s cap) each time.
      const expected = [0, 150, 450, 1_050, 2_250, 4_650, 9_450, 16_950, 24_450, 31_950, 39_450, 46_950, 54_450];
      expect(store.releases.map((t) => t - started)).toEqual(expected);
      expect(messages().filter((m) => m.startsWith('releasing a secret'))).toHaveLength(expected.length);

      store.failing = false; // the API server lets it through again: the next try releases it, and that is the last
      await vi.advanceTimersByTimeAsync(60_000);
      expect(store.releases).toHaveLength(expected.length + 1);
      expect(messages()).toContain('secret released: no pod on this node asks for it');
    } finally {
      await sync.stop();
    }
  });
});

describe('SecretSync release cut off by a crash', () => {
  it('releases, after a restart, a synced Secret whose class stopped asking for it before the crash', async () => {
    // The run before the crash: the Secret was synced, then the pod republished with a class that
    // names db2 instead of db, and the agent died before releasing db.
    const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
    await journal.record([published]);
    await journal.record([{ type: 'SecretSynced', payload: { namespace: 'shop', secretName: 'db', mountKeys: ['uid-1/vol'], dataHash: 'd', basisSeq: 1 } }]);
    const renamed = structuredClone(published) as Extract<NewEvent, { type: 'MountPublished' }>;
    renamed.payload.secretObjects[0]!.secretName = 'db2';
    await journal.record([renamed]);

    // The restarted agent's sync: it must take pod uid-1 out of db's owners and then forget db.
    const store = new FakeSecrets();
    const releases: Array<{ name: string; released: string[] }> = [];
    store.release = (_namespace?: string, name?: string, released?: ReadonlySet<string>) => {
      releases.push({ name: name ?? '', released: [...(released ?? [])] });
      return Promise.resolve('deleted');
    };
    useFakeClock();
    const sync = syncOver(journal, store, 0);
    sync.start();
    try {
      await settle();
      expect(journal.state.secrets.has('shop/db')).toBe(false);
      expect(releases).toEqual([{ name: 'db', released: ['uid-1'] }]);
      expect(journal.state.secrets.get('shop/db2')?.owners.map((o) => o.uid)).toEqual(['uid-1']);
    } finally {
      await sync.stop();
    }
  });
});
