import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsIdentity, ObjectRequest } from '../../core/model.js';
import { startLocalStack } from '../../emulators/local-stack.js';
import type { LocalStack } from '../../emulators/local-stack.js';
import { InMemoryServiceAccountDirectory } from './in-memory-directories.js';
import { PerMountSecretSource } from './per-mount-source.js';

const REGION = 'us-east-1';
const ROLE = 'arn:aws:iam::111122223333:role/app';

describe('PerMountSecretSource (the upstream provider call pattern, for the benchmark)', () => {
  let stack: LocalStack;
  let source: PerMountSecretSource;

  function identity(mode: AwsIdentity['mode']): AwsIdentity {
    const tokens = JSON.parse(stack.kubeletTokens({ namespace: 'ns', serviceAccount: 'app', podName: 'p', podUid: 'u' })) as Record<string, { token: string }>;
    const audience = mode === 'irsa' ? 'sts.amazonaws.com' : 'pods.eks.amazonaws.com';
    return { mode, namespace: 'ns', serviceAccount: 'app', podUid: 'u', token: tokens[audience]?.token ?? '', preferredAddressType: 'auto' };
  }

  beforeAll(async () => {
    stack = await startLocalStack();
    stack.addServiceAccount({ namespace: 'ns', name: 'app', roleArn: ROLE, allow: { secrets: ['app/*'], parameters: ['/app/*'] } });
    stack.aws.putSecret({ name: 'app/a', region: REGION, string: 'A' });
    stack.aws.putSecret({ name: 'app/b', region: REGION, binary: new Uint8Array([1, 2]) });
    for (let i = 0; i < 12; i++) stack.aws.putParameter({ name: `/app/p${i}`, region: REGION, value: `v${i}` });
    const directory = new InMemoryServiceAccountDirectory();
    directory.setRoleArn('ns', 'app', ROLE);
    source = new PerMountSecretSource({ endpoint: stack.aws.url, podIdentityEndpoint: stack.aws.podIdentityUrl, serviceAccounts: directory });
  });
  afterAll(async () => {
    source.close();
    await stack.stop();
  });

  const requests: ObjectRequest[] = [
    { type: 'secretsmanager', secretId: 'app/a' },
    { type: 'ssmparameter', name: '/app/p0' },
    { type: 'secretsmanager', secretId: 'app/b' },
    ...Array.from({ length: 11 }, (_, i): ObjectRequest => ({ type: 'ssmparameter', name: `/app/p${i + 1}` })),
    { type: 'secretsmanager', secretId: 'app/missing' },
  ];

  it('makes a fresh credential call, one GetSecretValue per secret and GetParameters by 10, on every call', async () => {
    stack.aws.counters.reset();
    for (let mount = 0; mount < 2; mount++) {
      const results = await source.fetch(identity('irsa'), REGION, requests);
      expect(results).toHaveLength(requests.length);
      expect(results[0]).toMatchObject({ ok: true, value: { bytes: new TextEncoder().encode('A') } });
      expect(results[1]).toMatchObject({ ok: true, value: { bytes: new TextEncoder().encode('v0'), version: '1' } });
      expect(results[2]).toMatchObject({ ok: true, value: { bytes: new Uint8Array([1, 2]) } });
      expect(results[13]).toMatchObject({ ok: true, value: { bytes: new TextEncoder().encode('v11') } });
      expect(results[14]).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    }
    expect(stack.aws.counters.byAction()).toEqual({ AssumeRoleWithWebIdentity: 2, GetSecretValue: 6, GetParameters: 4 });
    expect(source.stats()).toMatchObject({ credentialMisses: 2, credentialHits: 0, getSecretValueCalls: 6, getParametersCalls: 4, batchCalls: 0 });
  });

  it('asks the Pod Identity agent once per call in pod identity mode', async () => {
    stack.aws.counters.reset();
    await source.fetch(identity('podIdentity'), REGION, requests.slice(0, 2));
    await source.fetch(identity('podIdentity'), REGION, requests.slice(0, 2));
    const counts = stack.aws.counters.byAction();
    expect(Object.entries(counts).filter(([a]) => a.startsWith('PodIdentity'))).toEqual([['PodIdentityGetCredentials', 2]]);
    expect(counts['GetSecretValue']).toBe(2);
  });

  it('never waits for a budget token, however many calls it makes (upstream has no client-side limit)', async () => {
    // A frozen clock: a token bucket never refills, so any wait for a token would call sleep.
    const waits: number[] = [];
    const directory = new InMemoryServiceAccountDirectory();
    directory.setRoleArn('ns', 'app', ROLE);
    const frozen = { now: () => 0, sleep: (ms: number) => (waits.push(ms), Promise.reject(new Error('the model waited for a budget token'))) };
    const unthrottled = new PerMountSecretSource({ endpoint: stack.aws.url, podIdentityEndpoint: stack.aws.podIdentityUrl, serviceAccounts: directory, clock: frozen });
    try {
      // 401 mounts of one parameter: 401 GetParameters, past the 400-call burst of the account's quota.
      const oneParameter: ObjectRequest[] = [{ type: 'ssmparameter', name: '/app/p0' }];
      for (let mount = 0; mount < 401; mount++) {
        const [result] = await unthrottled.fetch(identity('irsa'), REGION, oneParameter);
        expect(result?.ok).toBe(true);
      }
      expect(waits).toEqual([]);
    } finally {
      unthrottled.close();
    }
  }, 60_000);
});
