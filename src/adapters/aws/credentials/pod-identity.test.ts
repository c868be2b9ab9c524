import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CountingObserver } from '../observer.js';
import { InstantClock, identityFor } from '../testing/fakes.js';
import { PodIdentityCredentialProvider, podIdentityEndpoints, POD_IDENTITY_IPV4, POD_IDENTITY_IPV6 } from './pod-identity.js';
import type { StartTimer } from '../../../core/ports/clock.js';
import { ManualTimers } from '../../../../test/support/manual-timers.js';

const servers: http.Server[] = [];
const providers: PodIdentityCredentialProvider[] = [];

afterEach(async () => {
  for (const p of providers.splice(0)) p.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function agent(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/credentials`;
}

/** A URL on which nothing listens (connection refused). */
async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}/v1/credentials`;
}

function provider(options: { endpoint?: string; agentAddresses?: { ipv4: string; ipv6: string }; timeoutMs?: number; requestTimer?: StartTimer }) {
  const clock = new InstantClock();
  const p = new PodIdentityCredentialProvider({
    ...options,
    clock,
    retry: { clock, random: () => 0, observer: new CountingObserver(), maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
  });
  providers.push(p);
  return p;
}

const identity = { ...identityFor({ namespace: 'ns', serviceAccount: 'app', mode: 'podIdentity' }), preferredAddressType: 'auto' as const };
const ok = JSON.stringify({ AccessKeyId: 'AK', SecretAccessKey: 'SK', Token: 'ST', Expiration: '2030-01-01T00:00:00Z' });

describe('PodIdentityCredentialProvider', () => {
  it('presents the raw token and parses the credentials', async () => {
    const seen: Array<string | undefined> = [];
    const url = await agent((req, res) => {
      seen.push(req.headers.authorization);
      res.end(ok);
    });
    const creds = await provider({ endpoint: url }).obtain({ identity, region: 'r', scope: { key: '' }, token: identity.token });
    expect(seen).toEqual([identity.token]);
    expect(creds).toEqual({ accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST', expiresAt: Date.parse('2030-01-01T00:00:00Z') });
  });

  it('retries a 5xx, and fails a 4xx as a client fault', async () => {
    let calls = 0;
    const url = await agent((_req, res) => {
      calls++;
      if (calls === 1) {
        res.statusCode = 500;
        res.end('{"code":"ServiceUnavailable","message":"later"}');
      } else {
        res.statusCode = 403;
        res.end('{"code":"AccessDeniedException","message":"no association"}');
      }
    });
    await expect(provider({ endpoint: url }).obtain({ identity, region: 'r', scope: { key: '' }, token: identity.token })).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
    });
    expect(calls).toBe(2);
  });

  it('retries an agent that does not answer in time (EKS Auto Mode, agent not ready yet)', async () => {
    let calls = 0;
    let firstArrived!: () => void;
    const arrived = new Promise<void>((r) => (firstArrived = r));
    let firstAbandoned!: () => void;
    const abandoned = new Promise<void>((r) => (firstAbandoned = r));
    const url = await agent((req, res) => {
      calls++;
      if (calls > 1) return void res.end(ok);
      // The first request is left hanging until the client gives up on it.
      req.socket.once('close', firstAbandoned);
      firstArrived();
    });
    const timers = new ManualTimers();
    const p = provider({ endpoint: url, timeoutMs: 5_000, requestTimer: timers.start });
    const obtained = p.obtain({ identity, region: 'r', scope: { key: '' }, token: identity.token });

    await arrived;
    expect(timers.started.map((t) => ({ ms: t.ms, state: t.state }))).toEqual([{ ms: 5_000, state: 'running' }]);
    timers.started[0]!.expire();

    await expect(obtained).resolves.toMatchObject({ accessKeyId: 'AK' });
    await abandoned;
    expect(calls).toBe(2);
    // The hanging attempt timed out; the answered one stopped its timer.
    expect(timers.started.map((t) => ({ ms: t.ms, state: t.state }))).toEqual([
      { ms: 5_000, state: 'expired' },
      { ms: 5_000, state: 'cancelled' },
    ]);
  });

  it('auto really falls back to the IPv6 address when IPv4 is unreachable', async () => {
    let calls = 0;
    const live = await agent((_req, res) => {
      calls++;
      res.end(ok);
    });
    const p = provider({ agentAddresses: { ipv4: await deadUrl(), ipv6: live } });
    await expect(p.obtain({ identity, region: 'r', scope: { key: '' }, token: identity.token })).resolves.toMatchObject({ accessKeyId: 'AK' });
    expect(calls).toBe(1);
  });

  it('chooses endpoints by address preference', () => {
    expect(podIdentityEndpoints('auto')).toEqual([POD_IDENTITY_IPV4, POD_IDENTITY_IPV6]);
    expect(podIdentityEndpoints('ipv6')).toEqual([POD_IDENTITY_IPV6]);
    expect(podIdentityEndpoints('ipv4', 'http://x')).toEqual(['http://x']);
  });
});

