import type { GetSecretValueCommandInput, GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ObjectRequest } from '../../core/model.js';
import { AwsSecretSource } from './coalescing-fetcher.js';
import { CountingObserver } from './observer.js';
import { RateBudget } from './rate-budget.js';
import { SecretsManagerFetcher } from './secrets-manager-fetcher.js';
import { SsmFetcher } from './ssm-fetcher.js';
import { FakeCredentials, FakeSecretsManager, FakeSsm, ManualClock, identityFor } from './testing/fakes.js';

/** Keeps every version put under one name, as AWS does: a pinned version id reads that version. */
class VersionedSecretsManager extends FakeSecretsManager {
  override async getSecretValue(input: GetSecretValueCommandInput): Promise<GetSecretValueCommandOutput> {
    const version = this.secrets.find((s) => s.name === input.SecretId && s.versionId === input.VersionId);
    if (version === undefined) return super.getSecretValue(input);
    this.getCalls.push(input);
    return { Name: version.name, ARN: version.arn, VersionId: version.versionId, SecretString: version.string, $metadata: {} };
  }
}

function setup(o: { windowMs?: number; valueCacheTtlMs?: number; sendTurn?: () => Promise<void> } = {}) {
  const clock = new ManualClock();
  const observer = new CountingObserver();
  const retry = { clock, random: () => 0, observer, maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
  const budget = new RateBudget({ clock });
  const sm = new Map<string, FakeSecretsManager>();
  const ssm = new FakeSsm();
  const smFor = (key: string) => {
    let api = sm.get(key);
    if (!api) {
      api = new VersionedSecretsManager();
      for (let i = 0; i < 10; i++) api.put(`app/s${i}`, `${key}:v${i}`);
      sm.set(key, api);
    }
    return api;
  };
  const source = new AwsSecretSource({
    credentials: new FakeCredentials(),
    clients: { secretsManager: (_region, key) => smFor(key), ssm: () => ssm },
    secretsManager: new SecretsManagerFetcher({ retry, budget, clock }),
    ssm: new SsmFetcher({ retry, budget }),
    clock,
    observer,
    coalesceWindowMs: o.windowMs ?? 0,
    ...(o.valueCacheTtlMs === undefined ? {} : { valueCacheTtlMs: o.valueCacheTtlMs }),
    ...(o.sendTurn === undefined ? {} : { sendTurn: o.sendTurn }),
  });
  return { clock, source, smFor, ssm };
}

const secrets = (n: number): ObjectRequest[] => Array.from({ length: n }, (_, i) => ({ type: 'secretsmanager', secretId: `app/s${i}` }));
const text = (r: { ok: boolean; value?: { bytes: Uint8Array } }) => (r.ok && r.value ? new TextDecoder().decode(r.value.bytes) : 'ERR');
const idA = identityFor({ namespace: 'ns', serviceAccount: 'a', podUid: 'p1' });

/** A new value of an existing secret, as AWS would return after a rotation. */
function rotate(api: FakeSecretsManager, name: string, value: string): void {
  const secret = api.secrets.find((x) => x.name === name);
  if (secret === undefined) throw new Error(`no fake secret ${name}`);
  secret.string = value;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('AwsSecretSource coalescing', () => {
  it('merges concurrent mounts of one service account into one batch call, each object once', async () => {
    const { source, smFor } = setup();
    const idA2 = identityFor({ namespace: 'ns', serviceAccount: 'a', podUid: 'p2' });
    const [m1, m2] = await Promise.all([source.fetch(idA, 'us-east-1', secrets(10)), source.fetch(idA2, 'us-east-1', secrets(6))]);
    const api = smFor('ns/a|us-east-1');
    expect(api.batchCalls).toHaveLength(1);
    expect(api.batchCalls[0]).toHaveLength(10);
    expect(m1.map(text)[9]).toBe('ns/a|us-east-1:v9');
    expect(m2.map(text)).toEqual(m1.map(text).slice(0, 6));
    expect(source.stats()).toMatchObject({ batchCalls: 1, coalesced: 6 });
  });

  it('sends each closed group only when the caller grants it a turn, in the order the windows closed', async () => {
    const turns: Array<() => void> = [];
    const { source, smFor } = setup({ sendTurn: () => new Promise<void>((r) => turns.push(r)) });
    const idB = identityFor({ namespace: 'ns', serviceAccount: 'b' });
    const fetches = Promise.all([source.fetch(idA, 'r', secrets(2)), source.fetch(idB, 'r', secrets(2))]);
    await settle();
    // Both windows have closed; nothing is sent until a turn is granted.
    expect(turns).toHaveLength(2);
    expect(smFor('ns/a|r').batchCalls).toHaveLength(0);
    expect(smFor('ns/b|r').batchCalls).toHaveLength(0);
    turns[0]!();
    await settle();
    expect(smFor('ns/a|r').batchCalls).toHaveLength(1);
    expect(smFor('ns/b|r').batchCalls).toHaveLength(0);
    turns[1]!();
    const [a, b] = await fetches;
    expect(smFor('ns/b|r').batchCalls).toHaveLength(1);
    expect([a.map(text), b.map(text)]).toEqual([['ns/a|r:v0', 'ns/a|r:v1'], ['ns/b|r:v0', 'ns/b|r:v1']]);
  });

  it('joins a request that is already in flight instead of sending it again', async () => {
    const { source, smFor, clock } = setup({ windowMs: 5 });
    const first = source.fetch(idA, 'r', secrets(3));
    await settle();
    clock.advance(5); // the window closes and the batch call starts
    const second = source.fetch(idA, 'r', secrets(2));
    const [a, b] = await Promise.all([first, second]);
    expect(smFor('ns/a|r').batchCalls).toHaveLength(1);
    expect(b.map(text)).toEqual(a.map(text).slice(0, 2));
    expect(source.stats().coalesced).toBe(2);
  });

  it('does not share a pinned version id read with one that also names AWSCURRENT (AWS answers them differently)', async () => {
    const { source, smFor } = setup();
    const api = smFor('ns/a|us-east-1');
    const old = api.secrets.find((x) => x.name === 'app/s1')!;
    const pinned: ObjectRequest = { type: 'secretsmanager', secretId: 'app/s1', versionId: old.versionId };
    const pinnedCurrent: ObjectRequest = { ...pinned, versionStage: 'AWSCURRENT' };
    const [withStage, plain] = await Promise.all([source.fetch(idA, 'us-east-1', [pinnedCurrent]), source.fetch(idA, 'us-east-1', [pinned])]);
    expect(api.getCalls.map((c) => [c.VersionId, c.VersionStage])).toEqual([
      [old.versionId, 'AWSCURRENT'],
      [old.versionId, undefined],
    ]);
    expect([withStage[0]?.ok, plain[0]?.ok]).toEqual([true, true]);
  });

  it('reads two pinned version ids of one secret separately, each caller getting the version it asked for', async () => {
    const { source, smFor } = setup();
    const api = smFor('ns/a|r');
    api.put('app/pinned', 'first', 'v1');
    api.put('app/pinned', 'second', 'v2');
    const [one, two] = await Promise.all([
      source.fetch(idA, 'r', [{ type: 'secretsmanager', secretId: 'app/pinned', versionId: 'v1' }]),
      source.fetch(idA, 'r', [{ type: 'secretsmanager', secretId: 'app/pinned', versionId: 'v2' }]),
    ]);
    expect(api.getCalls.map((c) => c.VersionId)).toEqual(['v1', 'v2']);
    expect([one.map(text), two.map(text)]).toEqual([['first'], ['second']]);
    expect([one[0]?.ok && one[0].value.version, two[0]?.ok && two[0].value.version]).toEqual(['v1', 'v2']);
  });

  it('never merges different service accounts, and a token for B claiming to be A is refused', async () => {
    const { source, smFor } = setup();
    const idB = identityFor({ namespace: 'ns', serviceAccount: 'b' });
    const [a, b] = await Promise.all([source.fetch(idA, 'r', secrets(2)), source.fetch(idB, 'r', secrets(2))]);
    expect(a.map(text)).toEqual(['ns/a|r:v0', 'ns/a|r:v1']);
    expect(b.map(text)).toEqual(['ns/b|r:v0', 'ns/b|r:v1']);
    expect(smFor('ns/a|r').batchCalls).toHaveLength(1);
    expect(smFor('ns/b|r').batchCalls).toHaveLength(1);
    const forged = identityFor({ namespace: 'ns', serviceAccount: 'a', tokenFor: { namespace: 'ns', serviceAccount: 'b' } });
    await expect(source.fetch(forged, 'r', secrets(1))).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('serves SSM and Secrets Manager requests of one mount together, in order', async () => {
    const { source, ssm } = setup();
    ssm.put('/app/p', 'P');
    const out = await source.fetch(idA, 'r', [{ type: 'ssmparameter', name: '/app/p' }, ...secrets(1)]);
    expect(out.map(text)).toEqual(['P', 'ns/a|r:v0']);
  });

  it('keeps values for the TTL when the value cache is on, and not after', async () => {
    const { source, smFor, clock } = setup({ valueCacheTtlMs: 1000 });
    await source.fetch(idA, 'r', secrets(2));
    await source.fetch(idA, 'r', secrets(2));
    expect(smFor('ns/a|r').batchCalls).toHaveLength(1);
    clock.advance(1001);
    await source.fetch(idA, 'r', secrets(2));
    expect(smFor('ns/a|r').batchCalls).toHaveLength(2);
  });

  describe('value cache expiry', () => {
    // The purge runs on timers; only setTimeout is faked so the coalescing window (setImmediate) still runs.
    afterEach(() => {
      vi.useRealTimers();
    });

    it('drops values from memory at their TTL, without waiting for another fetch or for LRU eviction', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { source, clock } = setup({ valueCacheTtlMs: 1000 });
      await source.fetch(idA, 'r', secrets(2));
      expect(source.cachedValueCount).toBe(2);
      clock.advance(999);
      vi.advanceTimersByTime(999);
      expect(source.cachedValueCount).toBe(2);
      clock.advance(2);
      vi.advanceTimersByTime(2);
      expect(source.cachedValueCount).toBe(0);
    });

    it('never serves an expired value, even before it is purged', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { source, smFor, clock } = setup({ valueCacheTtlMs: 1000 });
      await source.fetch(idA, 'r', secrets(1));
      rotate(smFor('ns/a|r'), 'app/s0', 'new');
      clock.advance(1000); // expired on the agent's clock; no purge timer has run
      expect((await source.fetch(idA, 'r', secrets(1))).map(text)).toEqual(['new']);
    });
  });

  it('never answers a fresh fetch (rotation) from the value cache', async () => {
    const { source, smFor } = setup({ valueCacheTtlMs: 60_000 });
    await source.fetch(idA, 'r', secrets(2));
    await source.fetch(idA, 'r', secrets(2), { fresh: true });
    expect(smFor('ns/a|r').batchCalls).toHaveLength(2);
    await source.fetch(idA, 'r', secrets(2));
    expect(smFor('ns/a|r').batchCalls).toHaveLength(2);
  });

  it('does not cache values by default', async () => {
    const { source, smFor } = setup();
    await source.fetch(idA, 'r', secrets(1));
    await source.fetch(idA, 'r', secrets(1));
    expect(smFor('ns/a|r').batchCalls).toHaveLength(2);
  });

  describe('requests that say when they arrived (notBefore)', () => {
    it('are answered by a read sent after they arrived, never by one sent before', async () => {
      const { source, smFor, clock } = setup();
      const arrived = clock.now();
      clock.advance(1); // the first mount's batch goes out after both mounts arrived
      const first = await source.fetch(idA, 'r', secrets(2), { notBefore: arrived });
      rotate(smFor('ns/a|r'), 'app/s0', 'rotated');
      // Queued behind the first mount on a busy node, it arrived before that read was sent.
      const queued = await source.fetch(idA, 'r', secrets(2), { notBefore: arrived });
      expect(smFor('ns/a|r').batchCalls).toHaveLength(1);
      expect(queued.map(text)).toEqual(first.map(text));
      expect(source.stats().coalesced).toBe(2);
      // Arrived in the same millisecond the read was sent: cannot be told apart, so it is not reused.
      const sameMs = await source.fetch(idA, 'r', secrets(1), { notBefore: clock.now() });
      expect(smFor('ns/a|r').batchCalls).toHaveLength(2);
      expect(sameMs.map(text)).toEqual(['rotated']);
    });

    it('get their own call when they arrived after the last read was sent', async () => {
      const { source, smFor, clock } = setup();
      await source.fetch(idA, 'r', secrets(1), { notBefore: clock.now() - 1 });
      rotate(smFor('ns/a|r'), 'app/s0', 'rotated');
      clock.advance(5);
      const later = await source.fetch(idA, 'r', secrets(1), { notBefore: clock.now() });
      expect(smFor('ns/a|r').batchCalls).toHaveLength(2);
      expect(later.map(text)).toEqual(['rotated']);
    });

    it('never reuse a failed read, another identity\'s read, or a read older than the retention', async () => {
      const { source, smFor, clock } = setup();
      const arrived = clock.now();
      clock.advance(1);
      const missing: ObjectRequest = { type: 'secretsmanager', secretId: 'app/missing' };
      const [failed] = await source.fetch(idA, 'r', [missing], { notBefore: arrived });
      expect(failed?.ok).toBe(false);
      smFor('ns/a|r').put('app/missing', 'now-there');
      const [retried] = await source.fetch(idA, 'r', [missing], { notBefore: arrived });
      expect(text(retried ?? { ok: false })).toBe('now-there');

      const idB = identityFor({ namespace: 'ns', serviceAccount: 'b' });
      await source.fetch(idB, 'r', secrets(1), { notBefore: arrived });
      expect(smFor('ns/b|r').batchCalls).toHaveLength(1);

      clock.advance(60_001);
      await source.fetch(idA, 'r', [missing], { notBefore: arrived });
      expect(smFor('ns/a|r').batchCalls).toHaveLength(3);
    });

    it('without notBefore, a finished read is never reused (no value cache by default)', async () => {
      const { source, smFor, clock } = setup();
      const arrived = clock.now();
      clock.advance(1);
      await source.fetch(idA, 'r', secrets(1), { notBefore: arrived });
      await source.fetch(idA, 'r', secrets(1));
      expect(smFor('ns/a|r').batchCalls).toHaveLength(2);
    });
  });
});
