import { describe, expect, it } from 'vitest';
import type { SecretletError } from '../../core/errors.js';
import type { FetchedObject } from '../../core/model.js';
import type { Result } from '../../core/result.js';
import { CountingObserver } from './observer.js';
import { RateBudget } from './rate-budget.js';
import type { RateBudgetOptions } from './rate-budget.js';
import { SecretsManagerFetcher, arnMatchesId } from './secrets-manager-fetcher.js';
import type { SecretRequest } from './secrets-manager-fetcher.js';
import { FakeSecretsManager, InstantClock, awsError } from './testing/fakes.js';

function setup(budgets?: RateBudgetOptions) {
  const clock = new InstantClock();
  const observer = new CountingObserver();
  const fetcher = new SecretsManagerFetcher({
    clock,
    retry: { clock, random: () => 0.5, observer, maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 100 },
    budget: new RateBudget({ clock, ...(budgets ? { budgets } : {}) }),
  });
  const api = new FakeSecretsManager();
  const ctx = { api, region: 'us-east-1', principal: 'arn:aws:iam::1:role/app' };
  return { clock, observer, fetcher, api, ctx };
}

const sm = (secretId: string, extra: Partial<SecretRequest> = {}): SecretRequest => ({ type: 'secretsmanager', secretId, ...extra });
const text = (r: Result<FetchedObject, SecretletError> | undefined) => (r?.ok ? new TextDecoder().decode(r.value.bytes) : r?.error.code);

describe('SecretsManagerFetcher', () => {
  it('fetches unpinned secrets with BatchGetSecretValue, 20 ids per call, in request order', async () => {
    const { fetcher, api, ctx } = setup();
    for (let i = 0; i < 25; i++) api.put(`app/s${i}`, `value-${i}`, `ver-${i}`);
    const out = await fetcher.fetch(ctx, Array.from({ length: 25 }, (_, i) => sm(`app/s${i}`)));
    expect(api.batchCalls.map((c) => c.length)).toEqual([20, 5]);
    expect(api.getCalls).toHaveLength(0);
    expect(out.map(text)).toEqual(Array.from({ length: 25 }, (_, i) => `value-${i}`));
    expect(out[3]).toMatchObject({ ok: true, value: { version: 'ver-3' } });
  });

  it('fetches pinned secrets with one GetSecretValue each', async () => {
    const { fetcher, api, ctx } = setup();
    api.put('app/a', 'A', 'v-a');
    api.put('app/b', 'B', 'v-b');
    const out = await fetcher.fetch(ctx, [sm('app/a', { versionId: 'v-a' }), sm('app/b', { versionStage: 'AWSPREVIOUS' }), sm('app/a', { versionStage: 'AWSCURRENT' })]);
    expect(api.getCalls.map((c) => [c.SecretId, c.VersionId, c.VersionStage])).toEqual([
      ['app/a', 'v-a', undefined],
      ['app/b', undefined, 'AWSPREVIOUS'],
    ]);
    expect(api.batchCalls).toEqual([['app/a']]);
    expect(out.map(text)).toEqual(['A', 'B', 'A']);
  });

  it('matches batch answers by name, full ARN and partial ARN, and fetches a duplicate id once', async () => {
    const { fetcher, api, ctx } = setup();
    const s = api.put('app/db', 'pw');
    const out = await fetcher.fetch(ctx, [sm('app/db'), sm(s.arn), sm(s.arn.slice(0, -7)), sm('app/db')]);
    expect(api.batchCalls).toEqual([['app/db', s.arn, s.arn.slice(0, -7)]]);
    expect(out.map(text)).toEqual(['pw', 'pw', 'pw', 'pw']);
    expect(arnMatchesId(s.arn, 'arn:aws:secretsmanager:us-east-1:111122223333:secret:app/d')).toBe(false);
  });

  it("never answers a name with another account's secret of that name asked for by ARN in the same batch", async () => {
    const { fetcher, api, ctx } = setup();
    const other = api.put('shared/db', 'OTHER-ACCOUNT', 'v-other', '999999999999');
    api.put('shared/db', 'OWN', 'v-own');
    for (const order of [[sm(other.arn), sm('shared/db')], [sm('shared/db'), sm(other.arn)]]) {
      const out = await fetcher.fetch(ctx, order);
      expect(Object.fromEntries(order.map((r, i) => [r.secretId, text(out[i])]))).toEqual({ [other.arn]: 'OTHER-ACCOUNT', 'shared/db': 'OWN' });
    }
    // With no such secret in the caller's account the name is not found, rather than the other account's.
    const alone = setup();
    const elsewhere = alone.api.put('shared/db', 'OTHER-ACCOUNT', 'v-other', '999999999999');
    const out = await alone.fetcher.fetch(alone.ctx, [sm(elsewhere.arn), sm('shared/db')]);
    expect(out.map(text)).toEqual(['OTHER-ACCOUNT', 'NOT_FOUND']);
  });

  it('fails only the secret that is not found', async () => {
    const { fetcher, api, ctx } = setup();
    api.put('app/a', 'A');
    const out = await fetcher.fetch(ctx, [sm('app/a'), sm('app/missing')]);
    expect(out[0]).toMatchObject({ ok: true });
    expect(out[1]).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(out[1]?.ok === false && out[1].error.message).toContain('app/missing');
  });

  it('falls back to GetSecretValue when batch is denied, and remembers that per role+region for the TTL', async () => {
    const { fetcher, api, ctx, clock } = setup();
    api.put('app/a', 'A');
    api.put('app/b', 'B');
    api.denyBatch = true;
    expect((await fetcher.fetch(ctx, [sm('app/a'), sm('app/b')])).map(text)).toEqual(['A', 'B']);
    expect((await fetcher.fetch(ctx, [sm('app/a')])).map(text)).toEqual(['A']);
    expect(api.batchCalls).toHaveLength(1);
    expect(api.getCalls).toHaveLength(3);
    await fetcher.fetch({ ...ctx, principal: 'other-role' }, [sm('app/a')]);
    expect(api.batchCalls).toHaveLength(2);
    clock.t += 600_001;
    api.denyBatch = false;
    await fetcher.fetch(ctx, [sm('app/a')]);
    expect(api.batchCalls).toHaveLength(3);
  });

  it('remembers batch denials only for the TTL: one identity per service account does not pile up', async () => {
    const { fetcher, api, ctx, clock } = setup({ BatchGetSecretValue: { burst: 100, ratePerSec: 100 } });
    api.put('app/a', 'A');
    api.denyBatch = true;
    for (let i = 0; i < 50; i++) await fetcher.fetch({ ...ctx, principal: `sa-${i}` }, [sm('app/a')]);
    expect(fetcher.batchDeniedRemembered).toBe(50);
    clock.t += 600_001;
    await fetcher.fetch({ ...ctx, principal: 'sa-new' }, [sm('app/a')]);
    expect(fetcher.batchDeniedRemembered).toBe(1);
  });

  it('spills over to GetSecretValue when the batch call is throttled, without retrying the batch', async () => {
    const { fetcher, api, ctx, observer } = setup();
    api.put('app/a', 'A');
    api.put('app/b', 'B');
    api.failBatch.push(() => awsError('ThrottlingException', 400));
    api.failGet.push(() => awsError('ThrottlingException', 400));
    expect((await fetcher.fetch(ctx, [sm('app/a'), sm('app/b')])).map(text)).toEqual(['A', 'B']);
    expect(api.batchCalls).toHaveLength(1);
    expect(api.getCalls).toHaveLength(3);
    expect(observer.snapshot().throttledCalls).toBe(2);
  });

  it('spills over when the batch budget is empty', async () => {
    const { fetcher, api, ctx } = setup({ BatchGetSecretValue: { burst: 1, ratePerSec: 0.001 } });
    api.put('app/a', 'A');
    await fetcher.fetch(ctx, [sm('app/a')]);
    await fetcher.fetch(ctx, [sm('app/a')]);
    expect(api.batchCalls).toHaveLength(1);
    expect(api.getCalls).toHaveLength(1);
  });

  it('takes a batch token for every batch attempt and spills over to GetSecretValue when a retry has none', async () => {
    const { fetcher, api, ctx, observer } = setup({ BatchGetSecretValue: { burst: 1, ratePerSec: 0.001 } });
    api.put('app/a', 'A');
    api.put('app/b', 'B');
    api.failBatch = Array.from({ length: 4 }, () => () => awsError('InternalServiceError', 500));
    const out = await fetcher.fetch(ctx, [sm('app/a'), sm('app/b')]);
    expect(api.batchCalls).toHaveLength(1);
    expect(out.map(text)).toEqual(['A', 'B']);
    expect(api.getCalls.map((c) => c.SecretId)).toEqual(['app/a', 'app/b']);
    expect(observer.snapshot()).toMatchObject({ batchCalls: 1, getSecretValueCalls: 2 });
  });

  it('retries a failing batch while its budget lasts', async () => {
    const { fetcher, api, ctx } = setup({ BatchGetSecretValue: { burst: 3, ratePerSec: 0.001 } });
    api.put('app/a', 'A');
    api.failBatch = Array.from({ length: 4 }, () => () => awsError('InternalServiceError', 500));
    expect((await fetcher.fetch(ctx, [sm('app/a')])).map(text)).toEqual(['A']);
    expect(api.batchCalls).toHaveLength(3);
    expect(api.getCalls).toHaveLength(1);
  });

  it('reports a persistent outage for every secret of the batch', async () => {
    const { fetcher, api, ctx } = setup();
    api.put('app/a', 'A');
    api.failBatch = Array.from({ length: 5 }, () => () => awsError('InternalServiceError', 500));
    const out = await fetcher.fetch(ctx, [sm('app/a'), sm('app/b')]);
    expect(out.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['UNAVAILABLE', 'UNAVAILABLE']);
    expect(api.batchCalls).toHaveLength(5);
  });

  it('returns SecretBinary bytes as they are', async () => {
    const { fetcher, api, ctx } = setup();
    api.secrets.push({ name: 'bin', arn: 'arn:aws:secretsmanager:r:111122223333:secret:bin-AAAAAA', versionId: 'v', binary: new Uint8Array([0, 255, 7]) });
    const [r] = await fetcher.fetch(ctx, [sm('bin')]);
    expect(r?.ok && [...r.value.bytes]).toEqual([0, 255, 7]);
  });
});
