import { describe, expect, it } from 'vitest';
import { CountingObserver } from './observer.js';
import { RateBudget } from './rate-budget.js';
import { SsmFetcher, packCalls } from './ssm-fetcher.js';
import type { ParameterRequest } from './ssm-fetcher.js';
import { FakeSsm, InstantClock, awsError } from './testing/fakes.js';

function setup() {
  const clock = new InstantClock();
  const fetcher = new SsmFetcher({
    retry: { clock, random: () => 0.5, observer: new CountingObserver(), maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 },
    budget: new RateBudget({ clock }),
  });
  const api = new FakeSsm();
  return { fetcher, api, ctx: { api, region: 'us-east-1' } };
}

const p = (name: string, selector?: string): ParameterRequest => ({ type: 'ssmparameter', name, ...(selector ? { selector } : {}) });
const text = (r: { ok: boolean; value?: { bytes: Uint8Array } } | undefined) => (r?.ok && r.value ? new TextDecoder().decode(r.value.bytes) : 'ERR');

describe('SsmFetcher', () => {
  it('reads 12 parameters with two GetParameters calls, in request order', async () => {
    const { fetcher, api, ctx } = setup();
    for (let i = 0; i < 12; i++) api.put(`/app/p${String(i).padStart(2, '0')}`, `v${i}`, i + 1);
    const names = Array.from({ length: 12 }, (_, i) => `/app/p${String(i).padStart(2, '0')}`).reverse();
    const out = await fetcher.fetch(ctx, names.map((n) => p(n)));
    expect(api.calls.map((c) => c.length)).toEqual([10, 2]);
    expect(out.map(text)).toEqual(names.map((n) => `v${Number(n.slice(-2))}`));
    expect(out[0]).toMatchObject({ ok: true, value: { version: '12' } });
  });

  it('keeps both files when two labels of one parameter are asked for', async () => {
    const { fetcher, api, ctx } = setup();
    api.put('/app/db', 'old', 1, ['blue']);
    api.put('/app/db', 'new', 2, ['green']);
    const out = await fetcher.fetch(ctx, [p('/app/db', 'blue'), p('/app/db', 'green'), p('/app/db', '2')]);
    expect(out.map(text)).toEqual(['old', 'new', 'new']);
    expect(api.calls.every((c) => new Set(c.map((n) => n.split(':')[0])).size === c.length)).toBe(true);
  });

  it('fails only the invalid parameters and ignores answer entries that match nothing', async () => {
    const { fetcher, api, ctx } = setup();
    api.put('/app/a', 'A');
    api.extra = [{ Name: '/unrelated', Value: 'x', Version: 1 }];
    const out = await fetcher.fetch(ctx, [p('/app/a'), p('/app/missing'), p('/app/a', '9')]);
    expect(out.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'NOT_FOUND', 'NOT_FOUND']);
    expect(out[2]?.ok === false && out[2].error.message).toContain('/app/a:9');
  });

  it('matches a parameter asked for by full ARN', async () => {
    const { fetcher, api, ctx } = setup();
    api.put('/shared/p', 'S');
    const out = await fetcher.fetch(ctx, [p('arn:aws:ssm:us-east-1:111122223333:parameter/shared/p')]);
    expect(out.map(text)).toEqual(['S']);
  });

  it('reads one parameter asked for by name and by ARN at once', async () => {
    const { fetcher, ctx } = setup();
    const arn = 'arn:aws:ssm:us-east-1:123456789012:parameter/app/db';
    const answer = { Parameters: [{ Name: '/app/db', ARN: arn, Value: 'v', Version: 1 }], InvalidParameters: [], $metadata: {} };
    const out = await fetcher.fetch({ ...ctx, api: { getParameters: async () => answer } }, [p('/app/db'), p(arn)]);
    expect(out.map(text)).toEqual(['v', 'v']);
  });

  it('keeps two versions of one parameter apart when one is asked for by ARN', async () => {
    const { fetcher, api, ctx } = setup();
    api.put('/app/db', 'old', 1);
    api.put('/app/db', 'new', 2);
    const out = await fetcher.fetch(ctx, [p('/app/db', '1'), p('arn:aws:ssm:us-east-1:111122223333:parameter/app/db', '2')]);
    expect(out.map(text)).toEqual(['old', 'new']);
  });

  it('isolates a malformed name that fails the whole call', async () => {
    const { fetcher, api, ctx } = setup();
    api.put('/app/a', 'A');
    api.failNext.push(() => awsError('ValidationException', 400));
    api.failNext.push(() => awsError('ValidationException', 400));
    const out = await fetcher.fetch(ctx, [p('bad name!'), p('/app/a')]);
    expect(out.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['NOT_FOUND', 'ok']);
  });

  it('retries a throttled call', async () => {
    const { fetcher, api, ctx } = setup();
    api.put('/app/a', 'A');
    api.failNext.push(() => awsError('ThrottlingException', 400));
    expect((await fetcher.fetch(ctx, [p('/app/a')])).map(text)).toEqual(['A']);
    expect(api.calls).toHaveLength(2);
  });

  it('packs at most 10 names per call and never one parameter twice per call', () => {
    const wanted = Array.from({ length: 11 }, (_, i) => ({ sent: `/a:${i}`, base: '/a', indices: [i] }));
    expect(packCalls(wanted).map((c) => c.length)).toEqual(Array(11).fill(1));
    const arn = 'arn:aws:ssm:us-east-1:123456789012:parameter/app/db';
    const byNameAndArn = [
      { sent: '/app/db', base: '/app/db', indices: [0] },
      { sent: arn, base: arn, indices: [1] },
      { sent: '/app/other', base: '/app/other', indices: [2] },
    ];
    expect(packCalls(byNameAndArn).map((c) => c.map((w) => w.sent))).toEqual([['/app/db', '/app/other'], [arn]]);
  });
});
