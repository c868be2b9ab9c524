/**
 * The local stack (Kubernetes and AWS emulators wired together): service accounts that share one
 * IAM role, as many do in real clusters, and a start that fails half-way (the AWS port is taken)
 * leaving nothing running and no directory behind.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../../src/emulators/local-stack.js';
import { smClient, stsClient } from './helpers.js';

const SHARED_ROLE = 'arn:aws:iam::111122223333:role/shop-shared';

async function assumeAs(stack: LocalStack, serviceAccount: string) {
  const { token } = stack.kube.mintServiceAccountToken({ namespace: 'shop', serviceAccount, audiences: ['sts.amazonaws.com'] });
  const out = await stsClient(stack.aws).send(
    new AssumeRoleWithWebIdentityCommand({ RoleArn: SHARED_ROLE, RoleSessionName: serviceAccount, WebIdentityToken: token }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

/** Listening TCP servers of this process: a leaked one keeps the process from exiting. */
function listeningServers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
}

describe('startLocalStack', () => {
  it('lets two service accounts that share a role both assume it, each keeping what it was granted', async () => {
    const stack = await startLocalStack();
    try {
      stack.addServiceAccount({ namespace: 'shop', name: 'web', roleArn: SHARED_ROLE, allow: { secrets: ['web/*'] } });
      stack.addServiceAccount({ namespace: 'shop', name: 'worker', roleArn: SHARED_ROLE, allow: { secrets: ['worker/*'] } });
      stack.aws.putSecret({ name: 'web/key', region: 'us-east-1', string: 'for-web' });
      stack.aws.putSecret({ name: 'worker/key', region: 'us-east-1', string: 'for-worker' });

      for (const sa of ['web', 'worker']) {
        const sm = smClient(stack.aws, 'us-east-1', await assumeAs(stack, sa));
        expect((await sm.send(new GetSecretValueCommand({ SecretId: `${sa}/key` }))).SecretString).toBe(`for-${sa}`);
      }
    } finally {
      await stack.stop();
    }
  });

  it('stops the Kubernetes emulator and removes its directory when the AWS port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    // os.tmpdir() follows TMPDIR, so the stack's own directory lands where this test can see it.
    const scratch = await mkdtemp(join(tmpdir(), 'local-stack-test-'));
    const savedTmpdir = process.env['TMPDIR'];
    process.env['TMPDIR'] = scratch;
    try {
      const serversBefore = listeningServers();
      await expect(startLocalStack({ aws: { port } })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(await readdir(scratch)).toEqual([]);
      expect(listeningServers()).toBe(serversBefore);
    } finally {
      if (savedTmpdir === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = savedTmpdir;
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
