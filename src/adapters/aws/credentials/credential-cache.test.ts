import { describe, expect, it } from 'vitest';
import { SecretletError } from '../../../core/errors.js';
import type { AuthMode, AwsIdentity } from '../../../core/model.js';
import { CountingObserver } from '../observer.js';
import { ManualClock, identityFor } from '../testing/fakes.js';
import { fallsOver } from '../../../core/mount/mount-job.js';
import { CredentialCache } from './credential-cache.js';
import type { AwsCredentials, CredentialProvider, CredentialScope, ObtainRequest } from './types.js';

const HOUR = 3_600_000;

/** A provider whose calls the test completes by hand. */
class GatedProvider implements CredentialProvider {
  readonly mode = 'irsa' as const;
  readonly calls: ObtainRequest[] = [];
  readonly #waiting: Array<{ resolve: (c: AwsCredentials) => void; reject: (e: unknown) => void }> = [];
  readonly clock: ManualClock;
  constructor(clock: ManualClock) {
    this.clock = clock;
  }
  async scope(identity: AwsIdentity, region: string) {
    return { key: `arn:aws:iam::1:role/${identity.serviceAccount}|${region}`, roleArn: `arn:aws:iam::1:role/${identity.serviceAccount}` };
  }
  obtain(request: ObtainRequest): Promise<AwsCredentials> {
    this.calls.push(request);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }
  completeAll(lifetimeMs = HOUR): void {
    for (const w of this.#waiting.splice(0)) w.resolve({ accessKeyId: `AK${this.calls.length}`, secretAccessKey: 's', expiresAt: this.clock.now() + lifetimeMs });
  }
  /** Fails every waiting call as STS or the Pod Identity agent does when it is down. */
  failAll(): void {
    for (const w of this.#waiting.splice(0)) w.reject(new SecretletError({ code: 'UNAVAILABLE', reason: 'ServiceUnavailable', message: 'STS is unavailable' }));
  }
  /** Fails every waiting call as STS or the Pod Identity agent does when it refuses the identity. */
  denyAll(): void {
    for (const w of this.#waiting.splice(0)) w.reject(new SecretletError({ code: 'PERMISSION_DENIED', reason: 'AccessDenied', message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity' }));
  }
  get waiting(): number {
    return this.#waiting.length;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

function setup() {
  const clock = new ManualClock();
  const provider = new GatedProvider(clock);
  const observer = new CountingObserver();
  const cache = new CredentialCache({ providers: { irsa: provider }, clock, observer });
  return { clock, provider, observer, cache };
}

describe('CredentialCache', () => {
  it('makes one call for concurrent misses of one identity and serves later acquires from the cache', async () => {
    const { provider, cache, observer } = setup();
    const a = identityFor({ namespace: 'ns', serviceAccount: 'app', podUid: 'p1' });
    const b = identityFor({ namespace: 'ns', serviceAccount: 'app', podUid: 'p2' });
    const first = Promise.all([cache.acquire(a, 'us-east-1'), cache.acquire(b, 'us-east-1')]);
    await settle();
    provider.completeAll();
    const [l1, l2] = await first;
    expect(l1.key).toBe(l2.key);
    expect(l1.credentials).toBe(l2.credentials);
    await cache.acquire(a, 'us-east-1');
    expect(provider.calls).toHaveLength(1);
    expect(observer.snapshot()).toMatchObject({ credentialMisses: 2, credentialHits: 1 });
  });

  it("tells a refusal of credentials apart from a fetch's AccessDenied, so it does not fall over to another region", async () => {
    const { provider, cache } = setup();
    const pending = cache.acquire(identityFor({ namespace: 'ns', serviceAccount: 'app', podUid: 'p1' }), 'us-east-1');
    await settle();
    provider.denyAll();
    const refused = await pending.catch((e: unknown) => e);
    // The identity's failure, whichever object asked: it names the pod's service account.
    expect(refused).toMatchObject({ code: 'PERMISSION_DENIED', reason: 'CredentialsDenied', field: 'csi.storage.k8s.io/serviceAccount.name', message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity' });
    expect(fallsOver(refused as SecretletError)).toBe(false);
    expect(fallsOver(new SecretletError({ code: 'PERMISSION_DENIED', reason: 'AccessDenied', message: 'GetSecretValue denied' }))).toBe(true);
  });

  it('keeps identities and regions apart', async () => {
    const { provider, cache } = setup();
    const pending = Promise.all([
      cache.acquire(identityFor({ namespace: 'ns', serviceAccount: 'a' }), 'us-east-1'),
      cache.acquire(identityFor({ namespace: 'ns', serviceAccount: 'b' }), 'us-east-1'),
      cache.acquire(identityFor({ namespace: 'ns', serviceAccount: 'a' }), 'eu-west-1'),
    ]);
    await settle();
    provider.completeAll();
    const leases = await pending;
    expect(new Set(leases.map((l) => l.key)).size).toBe(3);
    expect(provider.calls.map((c) => `${c.identity.serviceAccount}@${c.region}`)).toEqual(['a@us-east-1', 'b@us-east-1', 'a@eu-west-1']);
  });

  // Pod Identity's scope is empty; under IRSA two service accounts may be annotated with one role.
  it.each<[AuthMode, CredentialScope]>([
    ['podIdentity', { key: '' }],
    ['irsa', { key: 'arn:aws:iam::1:role/shared|us-east-1', roleArn: 'arn:aws:iam::1:role/shared' }],
  ])('gives two service accounts of one namespace their own %s credentials, even with the same scope', async (mode, scope) => {
    const clock = new ManualClock();
    const gated = new GatedProvider(clock);
    const provider: CredentialProvider = { mode, scope: async () => scope, obtain: (request) => gated.obtain(request) };
    const cache = new CredentialCache({ providers: { [mode]: provider }, clock, observer: new CountingObserver() });
    const a = identityFor({ namespace: 'ns', serviceAccount: 'a', mode });
    const b = identityFor({ namespace: 'ns', serviceAccount: 'b', mode });

    const forA = cache.acquire(a, 'us-east-1');
    await settle();
    gated.completeAll();
    const leaseA = await forA;
    const forB = cache.acquire(b, 'us-east-1');
    await settle();
    gated.completeAll();
    const leaseB = await forB;

    expect(gated.calls.map((c) => [c.identity.serviceAccount, c.token])).toEqual([
      ['a', a.token],
      ['b', b.token],
    ]);
    expect(leaseB.credentials).not.toEqual(leaseA.credentials);
    expect(leaseB.key).not.toBe(leaseA.key);
  });

  it("never serves SA A's cached credentials to a token that names SA B", async () => {
    const { provider, cache } = setup();
    const pending = cache.acquire(identityFor({ namespace: 'ns', serviceAccount: 'a' }), 'us-east-1');
    await settle();
    provider.completeAll();
    await pending;
    const forged = identityFor({ namespace: 'ns', serviceAccount: 'a', tokenFor: { namespace: 'ns', serviceAccount: 'b' } });
    await expect(cache.acquire(forged, 'us-east-1')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(provider.calls).toHaveLength(1);
  });

  it('refreshes in the background ahead of expiry and in the foreground once expired', async () => {
    const { clock, provider, cache } = setup();
    const id = identityFor({ namespace: 'ns', serviceAccount: 'app' });
    const first = cache.acquire(id, 'r');
    await settle();
    provider.completeAll();
    const old = (await first).credentials;

    clock.advance(HOUR - 4 * 60_000); // inside the 5-minute refresh-ahead window
    const served = await cache.acquire(id, 'r');
    expect(served.credentials).toBe(old);
    expect(provider.calls).toHaveLength(2);
    provider.completeAll();
    await settle();
    const renewed = await cache.acquire(id, 'r');
    expect(renewed.credentials).not.toBe(old);
    expect(provider.calls).toHaveLength(2);

    clock.advance(2 * HOUR);
    const late = cache.acquire(id, 'r');
    await settle();
    expect(provider.calls).toHaveLength(3);
    provider.completeAll();
    expect((await late).credentials.expiresAt).toBeGreaterThan(clock.now());
  });

  it('current(key) renews with the freshest stored token', async () => {
    const { clock, provider, cache } = setup();
    const older = identityFor({ namespace: 'ns', serviceAccount: 'app', podUid: 'p1', expSeconds: 1_800_000_000 });
    const newer = identityFor({ namespace: 'ns', serviceAccount: 'app', podUid: 'p2', expSeconds: 1_900_000_000 });
    const p = cache.acquire(older, 'r');
    await settle();
    provider.completeAll();
    const { key } = await p;
    await cache.acquire(newer, 'r');
    clock.advance(HOUR);
    const renewed = cache.current(key);
    await settle();
    provider.completeAll();
    await renewed;
    expect(provider.calls.at(-1)?.token).toBe(newer.token);
  });

  it('current(key) keeps renewing with a longer-lived token when a shorter-lived one arrives later', async () => {
    const { clock, provider, cache } = setup();
    const nowSeconds = clock.now() / 1000;
    const longLived = identityFor({ namespace: 'ns', serviceAccount: 'app', podUid: 'p1', expSeconds: nowSeconds + 24 * 3600 });
    const shortLived = identityFor({ namespace: 'ns', serviceAccount: 'app', podUid: 'p2', expSeconds: nowSeconds + 1800 });
    const p = cache.acquire(longLived, 'r');
    await settle();
    provider.completeAll();
    const { key } = await p;
    await cache.acquire(shortLived, 'r');
    clock.advance(HOUR); // the credentials and the short-lived token have both expired
    const renewed = cache.current(key);
    await settle();
    provider.completeAll();
    await renewed;
    expect(provider.calls.at(-1)?.token).toBe(longLived.token);
  });

  // A short timeout: the failure this guards against is a caller left waiting on a pending refresh.
  describe('current(key) while a refresh fails or is pending', { timeout: 2_000 }, () => {
    async function cached() {
      const env = setup();
      const p = env.cache.acquire(identityFor({ namespace: 'ns', serviceAccount: 'app' }), 'r');
      await settle();
      env.provider.completeAll(HOUR);
      const lease = await p;
      return { ...env, key: lease.key, old: lease.credentials };
    }

    it('serves the still-valid credentials when the refresh fails, and fails the caller once they expired', async () => {
      const { clock, provider, cache, key, old } = await cached();
      clock.advance(HOUR - 60_000);
      const served = cache.current(key);
      await settle();
      expect(provider.waiting).toBe(1); // the refresh was started...
      provider.failAll(); // ...and STS is down
      await expect(served).resolves.toBe(old);

      clock.advance(61_000); // expiry + 1 s
      const late = cache.current(key);
      await settle();
      provider.failAll();
      await expect(late).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    });

    it('does not make callers wait for a pending refresh, and concurrent callers share one', async () => {
      const { clock, provider, cache, key, old } = await cached();
      clock.advance(HOUR - 60_000);
      const both = await Promise.all([cache.current(key), cache.current(key)]);
      expect(both).toEqual([old, old]);
      expect(provider.calls).toHaveLength(2);
      provider.completeAll();
      await settle();
      const renewed = await cache.current(key);
      expect(renewed).not.toBe(old);
      expect(provider.calls).toHaveLength(2);
    });

    it('retries a failed refresh on a later call, not on every call', async () => {
      const { clock, provider, cache, key, old } = await cached();
      clock.advance(HOUR - 4 * 60_000);
      await expect(cache.current(key)).resolves.toBe(old);
      await settle();
      provider.failAll();
      await settle();
      // The SDK asks on every request in the last minutes: those right after a failure get the old
      // credentials without another STS call.
      for (let i = 0; i < 5; i++) await expect(cache.current(key)).resolves.toBe(old);
      expect(provider.calls).toHaveLength(2);
      clock.advance(30_000);
      await expect(cache.current(key)).resolves.toBe(old);
      expect(provider.calls).toHaveLength(3);
      provider.completeAll();
      await settle();
      expect(await cache.current(key)).not.toBe(old);
    });

    it('refreshes in the foreground once less than the safety margin is left', async () => {
      const { clock, provider, cache, key, old } = await cached();
      clock.advance(HOUR - 5_000);
      const late = cache.current(key);
      await settle();
      expect(provider.waiting).toBe(1);
      provider.completeAll();
      const renewed = await late;
      expect(renewed).not.toBe(old);
      expect(renewed.expiresAt).toBeGreaterThan(clock.now() + 60_000);
    });
  });
});
