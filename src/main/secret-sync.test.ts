import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryEventLog } from '../adapters/eventlog/in-memory-event-log.js';
import type { OwnerChange, SecretApplyResult } from '../adapters/kubernetes/secret-writer.js';
import { createLogger } from '../adapters/logging/logger.js';
import type { NewEvent } from '../core/events/events.js';
import type { DesiredSecret } from '../core/secrets/desired-secret.js';
import { EventJournal } from './event-journal.js';
import { SecretSync } from './secret-sync.js';

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

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i += 1) await new Promise((r) => setTimeout(r, 2));
  expect(check()).toBe(true);
}

/** A sync over one published mount whose SPC asks for Secret shop/db, started. */
async function startSync(resyncIntervalMs: number): Promise<{ journal: EventJournal; store: FakeSecrets; sync: SecretSync }> {
  const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
  await journal.record([published]);
  const store = new FakeSecrets();
  const sync = new SecretSync({
    journal,
    store,
    events: { warning: () => Promise.resolve(true) },
    readFiles: () => Promise.resolve(new Map([['db-password', new TextEncoder().encode('s3cr3t')]])),
    logger,
    resyncIntervalMs,
  });
  sync.start();
  return { journal, store, sync };
}

describe('SecretSync resync', () => {
  it('writes a synced Secret again after it was deleted, and appends nothing while it is intact', async () => {
    const { journal, store, sync } = await startSync(20);
    try {
      // The first sync is done once its SecretSynced is in the log (the write comes first).
      await until(() => journal.state.secrets.get('shop/db')?.synced !== undefined);
      const seqAfterFirstSync = journal.state.lastSeq;
      await until(() => store.applied.length >= 3);
      // Intact: rechecked, nothing written, nothing appended to the log.
      expect(store.applied.slice(0, 3)).toEqual(['created', 'unchanged', 'unchanged']);
      expect(journal.state.lastSeq).toBe(seqAfterFirstSync);

      store.stored.clear(); // kubectl delete secret db
      const before = store.applied.length;
      await until(() => store.applied.length > before);

      expect(store.applied[before]).toBe('created');
      expect(new TextDecoder().decode(store.stored.get('shop/db')?.data['password'])).toBe('s3cr3t');
    } finally {
      await sync.stop();
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
      await until(() => journal.state.secrets.get('shop/db')?.synced !== undefined);
      const seqAfterSync = journal.state.lastSeq;
      store.conflict = true; // someone replaced it with a Secret of their own
      const before = store.tries.length;
      await until(() => store.tries.length >= before + 3);
      expect(journal.state.lastSeq).toBe(seqAfterSync + 1);
      expect(messages().filter((m) => m === 'secret sync failed')).toHaveLength(1);
    } finally {
      await sync.stop();
    }
  });
});
