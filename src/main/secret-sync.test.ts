import { describe, expect, it } from 'vitest';
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

  it('does not recheck anything with the resync off', async () => {
    const { store, sync } = await startSync(0);
    try {
      await until(() => store.applied.length >= 1);
      await new Promise((r) => setTimeout(r, 60));
      expect(store.applied).toEqual(['created']);
    } finally {
      await sync.stop();
    }
  });
});
