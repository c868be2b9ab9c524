/**
 * Counters and injected conditions through the real SDK: per-action rate limits (token buckets on an
 * injected clock), scripted faults (throttling, unavailability), and latency (observed through an
 * injected delay hook the test drives).
 */
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand } from '@aws-sdk/client-ssm';
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { AWS_DEFAULT_QUOTAS, startAwsEmulator, type AwsEmulator, type AwsEmulatorOptions } from '../../../src/emulators/aws/index.js';
import { createTestIssuer, errorName, smClient, ssmClient, stsClient } from './helpers.js';

const running: AwsEmulator[] = [];
async function start(options: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const emu = await startAwsEmulator(options);
  running.push(emu);
  emu.putSecret({ name: 'app/key', region: 'us-east-1', string: 'v' });
  emu.putParameter({ name: '/app/p', region: 'us-east-1', value: 'p' });
  return emu;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

describe('counters', () => {
  it('counts every call by action, identity and outcome', async () => {
    const emu = await start();
    const sm = smClient(emu);
    await sm.send(new GetSecretValueCommand({ SecretId: 'app/key' }));
    await sm.send(new GetSecretValueCommand({ SecretId: 'app/key' }));
    await errorName(sm.send(new GetSecretValueCommand({ SecretId: 'missing' })));
    await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['app/key', 'missing'] }));
    await ssmClient(emu).send(new GetParametersCommand({ Names: ['/app/p'] }));
    await errorName(stsClient(emu).send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'r', RoleSessionName: 'ss', WebIdentityToken: 'x' })));

    expect(emu.counters.byAction()).toEqual({ GetSecretValue: 3, BatchGetSecretValue: 1, GetParameters: 1, AssumeRoleWithWebIdentity: 1 });
    expect(emu.counters.byIdentity()).toEqual({
      admin: { GetSecretValue: 3, BatchGetSecretValue: 1, GetParameters: 1 },
      anonymous: { AssumeRoleWithWebIdentity: 1 },
    });
    expect(emu.counters.byOutcome()).toEqual({ ok: 4, error: 2 });
    expect(emu.counters.count({ action: 'GetSecretValue', outcome: 'error' })).toBe(1);
    expect(emu.counters.total()).toBe(6);
    emu.counters.reset();
    expect(emu.counters.total()).toBe(0);
  });

  it('counts the service account of a token-based call', async () => {
    const emu = await start();
    const issuer = createTestIssuer();
    await emu.trustIssuer(issuer);
    const token = issuer.mint({ namespace: 'ns', serviceAccount: 'sa', audience: 'sts.amazonaws.com' });
    await errorName(stsClient(emu).send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::1:role/none', RoleSessionName: 'ss', WebIdentityToken: token })));
    expect(emu.counters.count({ identity: 'system:serviceaccount:ns:sa', action: 'AssumeRoleWithWebIdentity', outcome: 'denied' })).toBe(1);
  });
});

describe('rate limits', () => {
  it('throttles beyond the per-second rate and refills with time', async () => {
    let now = Date.now();
    const emu = await start({ now: () => now, rateLimits: { GetSecretValue: 2 } });
    const sm = smClient(emu);
    const get = () => sm.send(new GetSecretValueCommand({ SecretId: 'app/key' }));
    await get();
    await get();
    expect(await errorName(get())).toBe('ThrottlingException');
    expect(emu.counters.count({ action: 'GetSecretValue', outcome: 'throttled' })).toBe(1);
    now += 500; // one token back at 2/s
    await get();
    expect(await errorName(get())).toBe('ThrottlingException');
    // Other actions and other regions have their own buckets.
    await sm.send(new DescribeSecretCommand({ SecretId: 'app/key' }));
    emu.putSecret({ name: 'app/key', region: 'us-east-2', string: 'v2' });
    await smClient(emu, 'us-east-2').send(new GetSecretValueCommand({ SecretId: 'app/key' }));
    emu.setRateLimit('GetSecretValue', undefined);
    await get();
  });

  it('shares one bucket between the actions of a `A+B` key, as the AWS defaults do', async () => {
    const now = Date.now();
    const emu = await start({ now: () => now });
    expect(AWS_DEFAULT_QUOTAS['GetParameter+GetParameters']).toBe(40);
    emu.setRateLimit('GetSecretValue+DescribeSecret', 1);
    const sm = smClient(emu);
    await sm.send(new DescribeSecretCommand({ SecretId: 'app/key' }));
    expect(await errorName(sm.send(new GetSecretValueCommand({ SecretId: 'app/key' })))).toBe('ThrottlingException');
  });

  it('lets the SDK retry through throttling with its standard retry strategy', async () => {
    const emu = await start();
    emu.faults.inject({ action: 'GetSecretValue', kind: 'throttle', count: 1 });
    const sm = new SecretsManagerClient({ endpoint: emu.url, region: 'us-east-1', credentials: emu.adminCredentials, maxAttempts: 3 });
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'app/key' }));
    expect(got.SecretString).toBe('v');
    expect(emu.counters.count({ action: 'GetSecretValue' })).toBe(2);
  });
});

describe('faults', () => {
  it('fails the next n calls of an action with throttling, then recovers', async () => {
    const emu = await start();
    emu.faults.inject({ action: 'GetParameters', kind: 'throttle', count: 2 });
    const ssm = ssmClient(emu);
    const get = () => ssm.send(new GetParametersCommand({ Names: ['/app/p'] }));
    expect(await errorName(get())).toBe('ThrottlingException');
    expect(await errorName(get())).toBe('ThrottlingException');
    expect((await get()).Parameters).toHaveLength(1);
    expect(emu.counters.byOutcome()).toEqual({ throttled: 2, ok: 1 });
  });

  it('makes services unavailable until cleared, in each service’s words', async () => {
    const emu = await start();
    emu.faults.inject({ kind: 'unavailable' });
    expect(await errorName(smClient(emu).send(new GetSecretValueCommand({ SecretId: 'app/key' })))).toBe('InternalServiceError');
    expect(await errorName(ssmClient(emu).send(new GetParametersCommand({ Names: ['/app/p'] })))).toBe('InternalServerError');
    const pod = await fetch(emu.podIdentityUrl);
    expect(pod.status).toBe(500);
    expect(emu.counters.byOutcome()).toEqual({ unavailable: 3 });
    emu.faults.clear();
    expect((await smClient(emu).send(new GetSecretValueCommand({ SecretId: 'app/key' }))).SecretString).toBe('v');
  });
});

describe('latency', () => {
  it('applies the configured latency before every response', async () => {
    const delays: number[] = [];
    const emu = await start({ latencyMs: 50, delay: async (ms) => void delays.push(ms) });
    await smClient(emu).send(new GetSecretValueCommand({ SecretId: 'app/key' }));
    await errorName(smClient(emu).send(new GetSecretValueCommand({ SecretId: 'missing' })));
    expect(delays).toEqual([50, 50]);
    emu.setLatency(0);
    await smClient(emu).send(new GetSecretValueCommand({ SecretId: 'app/key' }));
    expect(delays).toEqual([50, 50]);
  });

  it('holds the response until the latency wait is over', async () => {
    // The first call's wait lasts until the test ends it; later calls wait for nothing.
    let waitStarted: () => void = () => undefined;
    const waiting = new Promise<void>((resolve) => (waitStarted = resolve));
    let endWait: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (endWait = resolve));
    const waits: number[] = [];
    const emu = await start({
      latencyMs: 120,
      delay: (ms) => {
        waits.push(ms);
        if (waits.length > 1) return Promise.resolve();
        waitStarted();
        return held;
      },
    });
    let answered = false;
    const slow = smClient(emu)
      .send(new GetSecretValueCommand({ SecretId: 'app/key' }))
      .finally(() => (answered = true));
    await waiting; // its answer is ready, and waits
    // A whole second call, sent and answered after the first one's answer was ready: had that answer
    // not waited, it would have arrived first.
    expect((await smClient(emu).send(new GetSecretValueCommand({ SecretId: 'app/key' }))).SecretString).toBe('v');
    expect(answered).toBe(false);
    endWait();
    expect((await slow).SecretString).toBe('v');
    expect(waits).toEqual([120, 120]);
  });
});
