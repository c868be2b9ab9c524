/**
 * `secretlet serve` run with the `args:` of an upstream DaemonSet whose image was swapped for
 * secretlet's: the AWS provider's (its socket in the provider volume, no node name needed) and the
 * Secrets Store CSI Driver's (its endpoint and node id). Each upstream flag is logged with what it became.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCsiClient, createProviderClient } from '../../src/adapters/grpc/index.js';
import { startLocalStack } from '../../src/emulators/local-stack.js';
import type { LocalStack } from '../../src/emulators/local-stack.js';
import { startCliProcess, until } from '../support/cli-process.js';
import type { CliProcess } from '../support/cli-process.js';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('secretlet serve with upstream DaemonSet args', () => {
  let stack: LocalStack | undefined;
  let dir: string | undefined;
  let child: CliProcess | undefined;

  afterEach(async () => {
    await child?.kill();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function serve(upstreamArgs: string[]): Promise<{ records: () => Array<Record<string, unknown>> }> {
    dir = await mkdtemp(join(tmpdir(), 'secretlet-upstream-args-'));
    stack = await startLocalStack({ dir });
    // Only what an in-cluster pod has without flags: its kubeconfig and the AWS endpoint stand in for
    // the service account mount and the real AWS.
    const own = ['--kubeconfig', stack.kubeconfigPath, '--aws-endpoint', stack.aws.url, '--state-dir', join(dir, 'state'), '--log-level', 'info'];
    const env = { ...process.env };
    delete env['NODE_NAME'];
    delete env['SECRETLET_MODE'];
    child = startCliProcess(['--import', 'tsx'], [join(ROOT, 'src/cli/main.ts'), 'serve', ...upstreamArgs, ...own], ROOT, env);
    return { records: () => child!.lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it("runs the AWS provider's: the provider door listens in --provider-volume, and mounts", async () => {
    const providers = join(tmpdir(), `secretlet-providers-${process.pid}`);
    await mkdir(providers, { recursive: true });
    try {
      const { records } = await serve([`--provider-volume=${providers}`, '--qps=5', '--burst=10', '--metrics-addr=']);
      const listening = await until(() => records().find((r) => r['msg'] === 'provider door listening'), 'the provider door');
      expect(listening['socket']).toBe(join(providers, 'aws.sock'));
      const notes = records().filter((r) => r['msg'] === 'upstream flag').map((r) => r['note']);
      expect(notes).toEqual([
        `-provider-volume=${providers}: --provider-socket=${join(providers, 'aws.sock')}`,
        '-qps=5: ignored, secretlet sets no client-side rate limit on its API server calls',
        '-burst=10: ignored, secretlet sets no client-side rate limit on its API server calls',
        "only the AWS provider's flags were given: --mode=provider",
      ]);
      // The call budgets it runs with, at the default fleet size (no secretlet flag was given).
      const budgets = records().find((r) => r['msg'] === 'AWS call budgets per node');
      expect(budgets).toMatchObject({ fleetSize: 100, budgets: { GetParameters: '0.4/s, burst 4', BatchGetSecretValue: '1/s, burst 10' } });
      // The CSI door stays shut: this DaemonSet is the provider's.
      expect(records().find((r) => r['msg'] === 'csi door listening')).toBeUndefined();
      // A mount through the socket, as the driver would send it.
      const s = stack!;
      s.addServiceAccount({ namespace: 'default', name: 'web', roleArn: 'arn:aws:iam::111122223333:role/web', allow: { secrets: ['app/*'], batchGetSecretValue: true } });
      s.aws.putSecret({ name: 'app/db', region: 'us-east-1', string: 'db-value' });
      const target = join(dir!, 'target');
      await mkdir(target);
      const uid = '00000000-0000-4000-9000-000000000001';
      const attributes = {
        region: 'us-east-1',
        objects: '- objectName: app/db\n  objectType: secretsmanager\n',
        secretProviderClass: 'app',
        'csi.storage.k8s.io/pod.name': 'web-1',
        'csi.storage.k8s.io/pod.namespace': 'default',
        'csi.storage.k8s.io/pod.uid': uid,
        'csi.storage.k8s.io/serviceAccount.name': 'web',
        'csi.storage.k8s.io/serviceAccount.tokens': s.kubeletTokens({ namespace: 'default', serviceAccount: 'web', podName: 'web-1', podUid: uid }),
      };
      const client = createProviderClient(join(providers, 'aws.sock'));
      try {
        await client.mount({ attributes: JSON.stringify(attributes), secrets: 'null', targetPath: target, permission: '420', currentObjectVersion: [] });
      } finally {
        client.close();
      }
      expect(await readFile(join(target, 'app_db'), 'utf8')).toBe('db-value');
    } finally {
      await rm(providers, { recursive: true, force: true });
    }
  }, 60_000);

  it("runs the driver's: the CSI door on --endpoint reports --nodeid", async () => {
    const endpointDir = await mkdtemp(join(tmpdir(), 'secretlet-csi-'));
    try {
      const endpoint = `unix://${join(endpointDir, 'csi.sock')}`;
      const { records } = await serve([
        `--endpoint=${endpoint}`,
        '--nodeid=ip-10-0-1-7.ec2.internal',
        '--provider-volume=/var/run/secrets-store-csi-providers',
        '--enable-secret-rotation=true',
        '--rotation-poll-interval=90s',
        '--metrics-addr=127.0.0.1:0',
        '-v=5',
      ]);
      await until(() => records().find((r) => r['msg'] === 'csi door listening'), 'the CSI door');
      const client = createCsiClient(endpoint);
      try {
        expect(await client.nodeGetInfo()).toEqual({ nodeId: 'ip-10-0-1-7.ec2.internal' });
      } finally {
        client.close();
      }
      const notes = records().filter((r) => r['msg'] === 'upstream flag').map((r) => String(r['note']));
      expect(notes).toContain('-rotation-poll-interval=90s: --rotation-interval=90s');
      expect(notes.some((n) => n.startsWith('-v=5: ignored'))).toBe(true);
      expect(records().find((r) => r['msg'] === 'provider door listening')).toBeUndefined();
    } finally {
      await rm(endpointDir, { recursive: true, force: true });
    }
  }, 60_000);
});
