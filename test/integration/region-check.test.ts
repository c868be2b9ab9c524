/**
 * The region check of parameters.ts against what it mirrors: the AWS SDK's own region check (so no
 * region the SDK takes is refused), and a malformed region coming from the node's label rather than
 * the SecretProviderClass.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { DefaultRegionResolver, StaticNodeRegionSource } from '../../src/adapters/aws/index.js';
import { SecretletError } from '../../src/core/errors.js';
import { prepareMount } from '../../src/core/usecases/mount-pipeline.js';
import { resolveRegions } from '../../src/core/spc/parameters.js';

/** Whether the SDK gets as far as sending a request for `region` (the handler stops it there). */
async function sdkAccepts(region: string): Promise<boolean> {
  const client = new SecretsManagerClient({
    region,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: () => Promise.reject(new Error('sent')),
    },
  });
  try {
    await client.send(new GetSecretValueCommand({ SecretId: 'x' }));
    return true;
  } catch (e) {
    return (e as Error).message === 'sent';
  } finally {
    client.destroy();
  }
}

function weAccept(region: string): boolean {
  try {
    resolveRegions(region, '');
    return true;
  } catch (e) {
    if (e instanceof SecretletError && e.code === 'INVALID_ARGUMENT') return false;
    throw e;
  }
}

describe('region check parity with the AWS SDK', () => {
  it.each([
    'us-east-1', 'us-gov-west-1', 'cn-north-1', 'eu-isoe-west-1', 'us-isof-south-1', 'ap-southeast-7', 'US-EAST-1', '1',
    'fips-us-east-1', 'us-east-1-fips', 'fips-dkr-us-east-1', 'fips-aws-global', 'aws-fips', 'a'.repeat(63),
    'us east 1', 'x/y', 'us-east-1.evil.com', 'us-east-1\uFFFD', 'us_east_1', '-us', 'us-', 'a'.repeat(64), 'fips--a', 'a--fips', 'us-east-1\n',
  ])('agrees on %j', async (region) => {
    expect(weAccept(region)).toBe(await sdkAccepts(region));
  });
});

describe("a malformed region from the node's label", () => {
  it('is refused as INVALID_ARGUMENT naming region, not left to fail inside the SDK', async () => {
    const attributes = {
      'csi.storage.k8s.io/pod.namespace': 'shop',
      'csi.storage.k8s.io/pod.name': 'web',
      'csi.storage.k8s.io/pod.uid': 'uid-1',
      'csi.storage.k8s.io/serviceAccount.name': 'app',
      'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({ 'sts.amazonaws.com': { token: 't', expirationTimestamp: '2030-01-01T00:00:00Z' } }),
      objects: '- objectName: db\n  objectType: secretsmanager\n',
    };
    const regions = new DefaultRegionResolver({ node: new StaticNodeRegionSource('us east 1') });
    const error = await prepareMount({ attributes: JSON.stringify(attributes), targetPath: '/var/lib/kubelet/pods/uid-1/volumes/v/mount', permission: '420' }, { regions }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretletError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'region' });
  });
});
