import { describe, expect, it } from 'vitest';
import { InMemoryEventLog } from '../adapters/eventlog/in-memory-event-log.js';
import { createLogger } from '../adapters/logging/logger.js';
import type { TokenMintRequest } from '../adapters/kubernetes/token-minter.js';
import type { MountEntry } from '../core/events/mount-registry.js';
import type { LoggedObject } from '../core/events/events.js';
import type { AudienceToken, RenderedFile } from '../core/model.js';
import type { PayloadWriter } from '../core/ports/payload-writer.js';
import type { SecretProviderClassSpec } from '../core/ports/spc-catalog.js';
import { SecretletError } from '../core/errors.js';
import { EventJournal } from './event-journal.js';
import { LiveMounts } from './rotation-live-mounts.js';
import { RestoredMounts } from './rotation-restored-mounts.js';

const logger = createLogger({ level: 'silent' });
const hasher = { hash: (b: Uint8Array) => Buffer.from(b).toString('hex').slice(0, 32) };
const writer: PayloadWriter = { write: (_dir: string, _files: readonly RenderedFile[]) => Promise.resolve({ changed: true }) };
const minter = { mint: (_r: TokenMintRequest): Promise<AudienceToken> => Promise.resolve({ token: 'minted', expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() }) };

/** The registry entry of one kubelet-door mount of SPC `ns/spc` with object `db` as the log recorded it. */
async function restoredEntry(db: Omit<LoggedObject, 'id' | 'hash' | 'jmesFiles'>): Promise<MountEntry> {
  const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
  await journal.record([
    {
      type: 'MountPublished',
      payload: {
        mountKey: 'u1/vol',
        door: 'csi',
        pod: { namespace: 'ns', name: 'p', uid: 'u1' },
        serviceAccount: 'sa',
        secretProviderClass: 'spc',
        authMode: 'irsa',
        regions: ['us-east-1'],
        targetPath: '/t',
        objects: [{ id: 'db', hash: hasher.hash(Buffer.from('one')), jmesFiles: [], ...db }],
        secretObjects: [],
      },
    },
  ]);
  return journal.state.mounts.get('u1/vol')!;
}

/** RestoredMounts whose catalog serves `ns/spc` with these `objects` (SPC YAML) in us-east-1. */
function restoredMounts(objects: string, mint: typeof minter = minter): { restored: RestoredMounts; live: LiveMounts } {
  const live = new LiveMounts();
  const spc: SecretProviderClassSpec = { namespace: 'ns', name: 'spc', uid: 'spc-uid', provider: 'aws', parameters: { region: 'us-east-1', objects }, secretObjects: [] };
  const restored = new RestoredMounts({
    live,
    minter: mint,
    catalog: { get: () => Promise.resolve(spc) },
    kubeletWriter: writer,
    readFiles: () => Promise.resolve(new Map([['db', Buffer.from('one')]])),
    logger,
  });
  return { restored, live };
}

const db = (extra = ''): string => `- objectName: db\n  objectType: secretsmanager\n${extra}`;
const pinnedV1 = { objectName: 'db', objectType: 'secretsmanager', version: 'v1', pinned: true } as const;

describe('RestoredMounts.rejoin', () => {
  it('rejoins a mount whose SPC still asks for the same objects, a pinned version included', async () => {
    const { restored, live } = restoredMounts(db('  objectVersion: v1\n'));
    const report = await restored.rejoin([await restoredEntry(pinnedV1)]);
    expect(report).toEqual({ rejoined: ['u1/vol'], failed: [] });
    expect(live.get('u1/vol')?.values.get(0)?.version).toBe('v1');
  });

  it.each([
    ['a pinned version moved to another one', pinnedV1, db('  objectVersion: v2\n')],
    ['a pin replaced by a label', pinnedV1, db('  objectVersionLabel: AWSPREVIOUS\n')],
    ['a pin removed', pinnedV1, db()],
    ['a label (or the latest) replaced by a pin', { ...pinnedV1, pinned: false }, db('  objectVersion: v1\n')],
    ['another object under the same file name', pinnedV1, '- objectName: other\n  objectType: secretsmanager\n  objectAlias: db\n  objectVersion: v1\n'],
  ])('refuses %s: the next republish does a full mount', async (_what, recorded, objects) => {
    const { restored, live } = restoredMounts(objects);
    const report = await restored.rejoin([await restoredEntry(recorded)]);
    expect(report).toEqual({ rejoined: [], failed: [{ mountKey: 'u1/vol', reason: 'SecretProviderClassChanged' }] });
    expect(live.get('u1/vol')).toBeUndefined();
  });

  /** A minter that answers with `outcome` and counts its calls. */
  function countingMinter(outcome: () => Promise<AudienceToken>): { mint: typeof minter.mint; calls: () => number } {
    let calls = 0;
    return {
      mint: () => {
        calls += 1;
        return outcome();
      },
      calls: () => calls,
    };
  }

  it('mints no token for a mount whose SPC changed: nothing a token could fix', async () => {
    const counting = countingMinter(() => minter.mint({} as TokenMintRequest));
    const { restored } = restoredMounts(db('  objectVersion: v2\n'), counting);
    await restored.rejoin([await restoredEntry(pinnedV1)]);
    expect(counting.calls()).toBe(0);
  });

  it('asks once for a mount whose pod is gone, not every cycle', async () => {
    const gone = new SecretletError({ code: 'NOT_FOUND', reason: 'KubernetesHttp404', message: 'pods "p" not found' });
    const counting = countingMinter(() => Promise.reject(gone));
    const { restored } = restoredMounts(db('  objectVersion: v1\n'), counting);
    const entry = await restoredEntry(pinnedV1);
    expect(await restored.rejoin([entry])).toEqual({ rejoined: [], failed: [{ mountKey: 'u1/vol', reason: 'KubernetesHttp404' }] });
    expect(await restored.rejoin([entry])).toEqual({ rejoined: [], failed: [] });
    expect(counting.calls()).toBe(1);
  });

  it('stops at the first throttled token request and asks again next cycle', async () => {
    let throttled = true;
    const counting = countingMinter(() =>
      throttled ? Promise.reject(new SecretletError({ code: 'UNAVAILABLE', reason: 'KubernetesHttp429', message: 'Too many requests, please try again later.' })) : minter.mint({} as TokenMintRequest),
    );
    const { restored } = restoredMounts(db('  objectVersion: v1\n'), counting);
    const first = await restoredEntry(pinnedV1);
    const entries = [first, { ...first, mountKey: 'u2/vol' }, { ...first, mountKey: 'u3/vol' }];
    expect((await restored.rejoin(entries)).failed).toHaveLength(1);
    expect(counting.calls()).toBe(1);
    throttled = false;
    expect((await restored.rejoin(entries)).rejoined).toEqual(['u1/vol', 'u2/vol', 'u3/vol']);
  });
});

