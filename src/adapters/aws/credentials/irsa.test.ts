import { describe, expect, it } from 'vitest';
import { InvalidIdentityTokenException } from '@aws-sdk/client-sts';
import type { AssumeRoleWithWebIdentityCommandInput } from '@aws-sdk/client-sts';
import { InMemoryServiceAccountDirectory } from '../in-memory-directories.js';
import { CountingObserver } from '../observer.js';
import { TokenBucket } from '../rate-budget.js';
import { InstantClock, identityFor } from '../testing/fakes.js';
import { IrsaCredentialProvider, roleSessionName } from './irsa.js';

function setup() {
  const clock = new InstantClock();
  const dir = new InMemoryServiceAccountDirectory();
  const sent: Array<{ region: string; input: AssumeRoleWithWebIdentityCommandInput }> = [];
  let fail: Error | undefined;
  const provider = new IrsaCredentialProvider({
    serviceAccounts: dir,
    stsFor: (region) => ({
      assumeRoleWithWebIdentity: async (input) => {
        sent.push({ region, input });
        if (fail) throw fail;
        return { $metadata: {}, Credentials: { AccessKeyId: 'AK', SecretAccessKey: 'SK', SessionToken: 'ST', Expiration: new Date(clock.now() + 3_600_000) } };
      },
    }),
    retry: { clock, random: () => 0, observer: new CountingObserver(), maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 },
    budget: new TokenBucket({ ratePerSec: 10, burst: 10, clock }),
  });
  return { clock, dir, sent, provider, setFail: (e: Error) => (fail = e) };
}

describe('IrsaCredentialProvider', () => {
  it('fails with the ASCP message when the service account has no role annotation', async () => {
    const { provider } = setup();
    await expect(provider.scope(identityFor({ namespace: 'shop', serviceAccount: 'web' }), 'us-east-1')).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: 'An IAM role must be associated with service account web (namespace: shop)',
    });
  });

  it('assumes the annotated role in the requested region with the pod token', async () => {
    const { dir, sent, provider } = setup();
    dir.setRoleArn('shop', 'web', 'arn:aws:iam::111122223333:role/web');
    const identity = identityFor({ namespace: 'shop', serviceAccount: 'web' });
    const scope = await provider.scope(identity, 'eu-west-1');
    const creds = await provider.obtain({ identity, region: 'eu-west-1', scope, token: identity.token });
    expect(creds).toMatchObject({ accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST' });
    expect(sent).toEqual([
      {
        region: 'eu-west-1',
        input: { RoleArn: 'arn:aws:iam::111122223333:role/web', RoleSessionName: 'secretlet-shop-web', WebIdentityToken: identity.token },
      },
    ]);
  });

  it('maps an STS refusal to UNAUTHENTICATED without retrying', async () => {
    const { dir, sent, provider, setFail } = setup();
    dir.setRoleArn('shop', 'web', 'arn:aws:iam::1:role/web');
    setFail(new InvalidIdentityTokenException({ message: 'bad token', $metadata: { httpStatusCode: 400 } }));
    const identity = identityFor({ namespace: 'shop', serviceAccount: 'web' });
    const scope = await provider.scope(identity, 'r');
    await expect(provider.obtain({ identity, region: 'r', scope, token: identity.token })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(sent).toHaveLength(1);
  });
});

describe('roleSessionName', () => {
  it('stays within 64 allowed characters and keeps long names distinct', () => {
    const long = 'x'.repeat(63);
    const a = roleSessionName(long, 'sa-one');
    const b = roleSessionName(long, 'sa-two');
    expect(a).toMatch(/^[\w+=,.@-]{1,64}$/);
    expect(a).not.toBe(b);
    expect(roleSessionName('n s', 'a/b')).toBe('secretlet-n_s-a_b');
  });
});
