/**
 * Injected throttling: refusals look like API Priority and Fairness's (429 TooManyRequests with
 * Retry-After), hit only the verb and resource asked for, and stop after the count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startWithClients } from './helpers.js';
import type { Clients } from './helpers.js';

let c: Clients;
beforeAll(async () => {
  c = await startWithClients({}, ['app']);
});
afterAll(async () => {
  await c.emulator.stop();
});

const get = (path: string) => rawRequest(c.emulator, path, { token: c.emulator.token });

describe('kube.throttle', () => {
  it('refuses the next matching requests with 429 and Retry-After, then serves again', async () => {
    c.emulator.throttle({ verb: 'get', resource: 'serviceaccounts', times: 2, retryAfterSeconds: 3 });
    const first = await get('/api/v1/namespaces/app/serviceaccounts/default');
    expect(first.code).toBe(429);
    expect(first.headers['retry-after']).toBe('3');
    expect(JSON.parse(first.body)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429, message: 'Too many requests, please try again later.', details: { retryAfterSeconds: 3 } });
    // Another verb or resource is not throttled.
    expect((await get('/api/v1/namespaces/app/serviceaccounts')).code).toBe(200);
    expect((await get('/api/v1/namespaces/app/secrets/none')).code).toBe(404);
    expect((await get('/api/v1/namespaces/app/serviceaccounts/default')).code).toBe(429);
    expect((await get('/api/v1/namespaces/app/serviceaccounts/default')).code).toBe(200);
  });

  it('refuses any request when no verb or resource is named, and counts the refusals', async () => {
    c.emulator.counters.reset();
    c.emulator.throttle({ times: 1 });
    const refused = await get('/api/v1/namespaces/app/secrets');
    expect(refused.code).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect((await get('/api/v1/namespaces/app/secrets')).code).toBe(200);
    expect(c.emulator.counters.byVerbResource()['list secrets']).toBe(2);
  });

  it('refuses a rule that would throttle nothing', () => {
    expect(() => c.emulator.throttle({ times: 0 })).toThrow('times must be a positive integer');
  });
});
