/**
 * `secretlet emulate aws` as a user runs it: with the example seed and `--trust-kube`, a token of
 * the local Kubernetes API server assumes the seeded role and reads the seeded secret; a seed that
 * cannot be read fails the command and frees its port.
 */
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQuotas } from '../../src/cli/emulate-aws.js';
import { AWS_DEFAULT_QUOTAS } from '../../src/emulators/aws/index.js';
import { startKubeEmulator } from '../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../src/emulators/kube/index.js';
import { startCliProcess, until } from '../support/cli-process.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function emulateAws(args: string[]) {
  return startCliProcess(['--import', 'tsx'], [join(ROOT, 'src/cli/main.ts'), 'emulate', 'aws', '--port', '0', ...args], ROOT);
}

/** A port nothing listens on now (the kernel's choice, released at once). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('secretlet emulate aws', () => {
  let dir: string;
  let kube: KubeEmulator;
  let kubeconfig: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secretlet-emulate-'));
    kube = await startKubeEmulator();
    kubeconfig = join(dir, 'kubeconfig');
    await kube.writeKubeconfig(kubeconfig);
  });

  afterAll(async () => {
    await kube.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('with the example seed and --trust-kube, a service-account token assumes the seeded role and reads the secret', async () => {
    const cli = emulateAws(['--seed', join(ROOT, 'src/emulators/aws/example-seed.yaml'), '--trust-kube', kubeconfig]);
    try {
      const exports = await until(() => cli.lines.find((l) => l.startsWith('export AWS_ENDPOINT_URL=')), 'the export line');
      const env = Object.fromEntries(exports.slice('export '.length).split(' ').map((kv) => kv.split('=') as [string, string]));
      expect(cli.lines.some((l) => l.startsWith(`trusting service-account tokens of ${kube.issuer}`))).toBe(true);
      // AWS CLI v1 reads only AWS_DEFAULT_REGION; the SDKs AWS_REGION.
      expect(env).toMatchObject({ AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' });

      const token = kube.mintServiceAccountToken({ namespace: 'default', serviceAccount: 'demo', audiences: ['sts.amazonaws.com'] }).token;
      const sts = new STSClient({ endpoint: env['AWS_ENDPOINT_URL'], region: 'us-east-1', maxAttempts: 1 });
      const assumed = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::111122223333:role/demo-reader', RoleSessionName: 'demo-session', WebIdentityToken: token }));
      const c = assumed.Credentials!;
      const sm = new SecretsManagerClient({
        endpoint: env['AWS_ENDPOINT_URL'],
        region: 'us-east-1',
        maxAttempts: 1,
        credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
      });
      const secret = await sm.send(new GetSecretValueCommand({ SecretId: 'demo/db-credentials' }));
      expect(JSON.parse(secret.SecretString!)).toMatchObject({ username: 'demo' });
    } finally {
      await cli.kill();
    }
  });

  it('with --quotas throttles like AWS: a call over the quota gets ThrottlingException', async () => {
    const cli = emulateAws(['--quotas', 'aws,GetParameter+GetParameters=0.1']);
    try {
      const exports = await until(() => cli.lines.find((l) => l.startsWith('export AWS_ENDPOINT_URL=')), 'the export line');
      const env = Object.fromEntries(exports.slice('export '.length).split(' ').map((kv) => kv.split('=') as [string, string]));
      expect(cli.lines).toContain('throttling per region above: BatchGetSecretValue 100/s, GetSecretValue+DescribeSecret 10000/s, GetParameter+GetParameters 0.1/s');
      const ssm = new SSMClient({
        endpoint: env['AWS_ENDPOINT_URL'],
        region: 'us-east-1',
        maxAttempts: 1,
        credentials: { accessKeyId: env['AWS_ACCESS_KEY_ID']!, secretAccessKey: env['AWS_SECRET_ACCESS_KEY']! },
      });
      // One call in the bucket, refilled every 10 s: the second call, right after, is over the quota.
      const call = () => ssm.send(new GetParametersCommand({ Names: ['/none'] })).then(() => 'ok', (e: Error) => e.name);
      expect([await call(), await call()]).toEqual(['ok', 'ThrottlingException']);
    } finally {
      await cli.kill();
    }
  });

  it('reads --quotas as aws and Action=callsPerSecond items, later ones overriding', () => {
    expect(parseQuotas('aws', AWS_DEFAULT_QUOTAS)).toEqual(AWS_DEFAULT_QUOTAS);
    expect(parseQuotas('aws, GetParameter+GetParameters=3000', AWS_DEFAULT_QUOTAS)['GetParameter+GetParameters']).toBe(3000);
    expect(parseQuotas('BatchGetSecretValue=0.5', AWS_DEFAULT_QUOTAS)).toEqual({ BatchGetSecretValue: 0.5 });
    for (const bad of ['GetParameters', 'GetParameters=0', 'GetParameters=-1', 'Get Parameters=5', ' , ']) {
      expect(() => parseQuotas(bad, AWS_DEFAULT_QUOTAS), bad).toThrow(/^--quotas: /);
    }
  });

  it('fails, and frees its port, when the seed cannot be read', async () => {
    const port = await freePort();
    const cli = startCliProcess(['--import', 'tsx'], [join(ROOT, 'src/cli/main.ts'), 'emulate', 'aws', '--port', String(port), '--seed', join(dir, 'missing.yaml')], ROOT);
    try {
      const { code } = await cli.exited;
      expect(code).not.toBe(0);
      // The port is free again: a new listener can take it.
      const probe = createServer();
      await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, '127.0.0.1', resolve));
      await new Promise<void>((resolve) => probe.close(() => resolve()));
    } finally {
      await cli.kill();
    }
  });
});
