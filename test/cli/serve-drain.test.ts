/**
 * `secretlet serve` as the DaemonSet runs it, in a child process against the local emulators: 50
 * mounts are in flight (each waiting at the AWS endpoint), SIGTERM arrives, every mount gets an
 * answer, a mount arriving during the drain is refused with UNAVAILABLE, and the process exits 0
 * within the drain timeout with its last log line written.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProviderClient } from '../../src/adapters/grpc/index.js';
import type { ProviderClient } from '../../src/adapters/grpc/index.js';
import { startLocalStack } from '../../src/emulators/local-stack.js';
import type { LocalStack } from '../../src/emulators/local-stack.js';
import { startCliProcess, until } from '../support/cli-process.js';
import type { CliProcess } from '../support/cli-process.js';

const MOUNTS = 50;
const ROOT = new URL('../../', import.meta.url).pathname;

function startServe(args: string[]): CliProcess {
  return startCliProcess(['--import', 'tsx'], [join(ROOT, 'src/cli/main.ts'), 'serve', ...args], ROOT);
}

describe('secretlet serve drains on SIGTERM', () => {
  let stack: LocalStack | undefined;
  let dir: string | undefined;
  let child: CliProcess | undefined;
  let client: ProviderClient | undefined;
  let openGate: () => void = () => undefined;

  afterEach(async () => {
    openGate();
    client?.close();
    await child?.kill();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * `serve` in provider mode with one mount stuck at the AWS endpoint (its answer waits at a gate the
   * test never opens). Resolves once the mount waits there, with the mount's outcome to come.
   */
  async function startWithStuckMount(drainTimeout: string): Promise<{ outcome: Promise<string | number | undefined>; child: CliProcess }> {
    dir = await mkdtemp(join(tmpdir(), 'secretlet-drain-'));
    const opened = new Promise<void>((r) => (openGate = r));
    let waiting = 0;
    stack = await startLocalStack({ dir, aws: { latencyMs: 1, delay: () => ((waiting += 1), opened) } });
    stack.addServiceAccount({ namespace: 'default', name: 'stuck', roleArn: 'arn:aws:iam::111122223333:role/stuck', allow: { secrets: ['drain/*'] } });
    const socket = join(dir, 'aws.sock');
    const serve = startServe(['--mode', 'provider', '--provider-socket', socket, '--kubeconfig', stack.kubeconfigPath, '--aws-endpoint', stack.aws.url, '--state-dir', join(dir, 'state'), '--metrics-addr', '', '--fleet-size', '1', '--pool-size', '0', '--drain-timeout', drainTimeout]);
    child = serve;
    await until(() => serve.lines.find((l) => l.includes('provider door listening')), 'the provider door');
    client = createProviderClient(socket);
    const uid = '00000000-0000-4000-9000-000000000001';
    const attributes = {
      region: 'us-east-1',
      objects: '- objectName: drain/never\n  objectType: secretsmanager\n',
      'csi.storage.k8s.io/pod.name': 'stuck',
      'csi.storage.k8s.io/pod.namespace': 'default',
      'csi.storage.k8s.io/pod.uid': uid,
      'csi.storage.k8s.io/serviceAccount.name': 'stuck',
      'csi.storage.k8s.io/serviceAccount.tokens': stack.kubeletTokens({ namespace: 'default', serviceAccount: 'stuck', podName: 'stuck', podUid: uid }),
    };
    const outcome = client.mount({ attributes: JSON.stringify(attributes), secrets: 'null', targetPath: dir, permission: '420', currentObjectVersion: [] }).then(
      () => 'mounted',
      (e: Error & { code?: number }) => e.code,
    );
    await until(() => (waiting >= 1 ? true : undefined), 'the mount to wait at the AWS endpoint');
    // Wrapped: an async function returning the promise itself would wait for it to settle.
    return { outcome, child: serve };
  }

  it('answers all 50 in-flight mounts, refuses new ones, exits 0 within the drain timeout and flushes the log', async () => {
    dir = await mkdtemp(join(tmpdir(), 'secretlet-drain-'));
    // Every AWS response waits at this gate until the test opens it, so the mounts stay in flight.
    const opened = new Promise<void>((r) => (openGate = r));
    let waiting = 0;
    stack = await startLocalStack({ dir, aws: { latencyMs: 1, delay: () => ((waiting += 1), opened) } });
    // One service account per mount: each mount then needs its own STS call, so 50 calls waiting at
    // the gate prove 50 mounts are in flight inside the child.
    for (let i = 0; i < MOUNTS; i++) {
      stack.addServiceAccount({ namespace: 'default', name: `sa-${i}`, roleArn: `arn:aws:iam::111122223333:role/drain-${i}`, allow: { secrets: ['drain/*'], batchGetSecretValue: true } });
    }
    stack.aws.putSecret({ name: 'drain/s', region: 'us-east-1', string: 'drain-value' });
    const socket = join(dir, 'aws.sock');
    const drainTimeoutMs = 60_000;
    child = startServe([
      '--mode', 'provider',
      '--provider-socket', socket,
      '--kubeconfig', stack.kubeconfigPath,
      '--aws-endpoint', stack.aws.url,
      '--state-dir', join(dir, 'state'),
      '--metrics-addr', '127.0.0.1:0',
      '--fleet-size', '1',
      '--pool-size', '0',
      '--drain-timeout', `${drainTimeoutMs / 1000}s`,
      '--log-level', 'info',
    ]);
    await until(() => child!.lines.find((l) => l.includes('provider door listening')), 'the provider door');

    client = createProviderClient(socket);
    const request = (i: number): Parameters<ProviderClient['mount']>[0] => {
      const pod = { name: `p-${i}`, uid: `00000000-0000-4000-9000-${String(i).padStart(12, '0')}` };
      const attributes = {
        region: 'us-east-1',
        objects: '- objectName: drain/s\n  objectType: secretsmanager\n',
        secretProviderClass: 'drain',
        'csi.storage.k8s.io/pod.name': pod.name,
        'csi.storage.k8s.io/pod.namespace': 'default',
        'csi.storage.k8s.io/pod.uid': pod.uid,
        'csi.storage.k8s.io/serviceAccount.name': `sa-${i % MOUNTS}`,
        'csi.storage.k8s.io/serviceAccount.tokens': stack!.kubeletTokens({ namespace: 'default', serviceAccount: `sa-${i % MOUNTS}`, podName: pod.name, podUid: pod.uid }),
      };
      return { attributes: JSON.stringify(attributes), secrets: 'null', targetPath: join(dir!, 'targets', String(i)), permission: '420', currentObjectVersion: [] };
    };
    const { mkdir } = await import('node:fs/promises');
    for (let i = 0; i <= MOUNTS; i++) await mkdir(join(dir, 'targets', String(i)), { recursive: true });

    const outcomes = Array.from({ length: MOUNTS }, (_, i) =>
      client!.mount(request(i)).then(
        (r) => ({ ok: true as const, files: r.objectVersion.length }),
        (e: Error & { code?: number }) => ({ ok: false as const, code: e.code }),
      ),
    );
    await until(() => (waiting >= MOUNTS ? true : undefined), `${MOUNTS} mounts waiting at the AWS endpoint`);

    process.kill(child.pid, 'SIGTERM');
    await until(() => child!.lines.find((l) => l.includes('received signal, draining')), 'the drain to start');
    const late = await client.mount(request(MOUNTS)).then(
      () => 'mounted',
      (e: Error & { code?: number }) => e.code,
    );
    expect(late).toBe(14); // UNAVAILABLE: kubelet (via the driver) retries on the next agent

    openGate();
    const results = await Promise.all(outcomes);
    expect(results.filter((r) => r.ok)).toHaveLength(MOUNTS);
    const exit = await child.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const records = child.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((r) => r['msg'] === 'provider mount complete')).toHaveLength(MOUNTS);
    expect(records.at(-1)).toMatchObject({ msg: 'secretlet exiting', code: 0, drained: true });
    child = undefined;
  }, 180_000);

  it('when the drain timeout passes first, fails the stuck mounts cleanly and exits 1', async () => {
    const { outcome, child: serve } = await startWithStuckMount('1s');
    process.kill(serve.pid, 'SIGTERM');
    // The gate stays closed: the mount can only end because the agent gave up on it.
    expect(typeof (await outcome)).toBe('number');
    expect(await serve.exited).toEqual({ code: 1, signal: null });
    const records = serve.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.some((r) => r['msg'] === 'drain timeout reached with mounts still in flight')).toBe(true);
    expect(records.at(-1)).toMatchObject({ msg: 'secretlet exiting', code: 1, drained: false });
    child = undefined;
  }, 180_000);

  /** `serve` against an API server that accepts connections and never answers: its start waits on the first list. */
  async function startWaitingOnApiServer(): Promise<{ serve: CliProcess; close(): void }> {
    dir = await mkdtemp(join(tmpdir(), 'secretlet-drain-'));
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${(silent.address() as AddressInfo).port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    );
    // Kubelet mode: its start waits for the first SecretProviderClass list (here, the 10 s handshake timeout).
    const serve = startServe(['--mode', 'kubelet', '--csi-endpoint', `unix://${join(dir, 'csi.sock')}`, '--node-name', 'node-1', '--kubeconfig', kubeconfig, '--aws-endpoint', 'http://127.0.0.1:1', '--state-dir', join(dir, 'state'), '--metrics-addr', '', '--fleet-size', '1', '--pool-size', '0']);
    child = serve;
    // The log is open, so the start now waits on the API server.
    await until(() => serve.lines.find((l) => l.includes('event log replayed')), 'the start to wait on the API server');
    return { serve, close: () => silent.close() };
  }

  it('drains and writes its last log line when SIGTERM comes while it is still starting', async () => {
    const { serve, close } = await startWaitingOnApiServer();
    try {
      process.kill(serve.pid, 'SIGTERM');
      expect(await serve.exited).toEqual({ code: 0, signal: null });
      const records = serve.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const heard = records.findIndex((r) => r['msg'] === 'received signal, draining');
      // Heard during the start, acted on once the start was done.
      expect(heard).toBeGreaterThanOrEqual(0);
      expect(records.findIndex((r) => r['msg'] === 'csi door listening')).toBeGreaterThan(heard);
      expect(records.at(-1)).toMatchObject({ msg: 'secretlet exiting', code: 0, drained: true });
      child = undefined;
    } finally {
      close();
    }
  }, 120_000);

  it('exits at once on a second signal while it is still starting', async () => {
    const { serve, close } = await startWaitingOnApiServer();
    try {
      process.kill(serve.pid, 'SIGTERM');
      await until(() => serve.lines.find((l) => l.includes('received signal, draining')), 'the first signal to be heard');
      process.kill(serve.pid, 'SIGTERM');
      expect(await serve.exited).toEqual({ code: 1, signal: null });
      const records = serve.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.at(-1)).toMatchObject({ msg: 'secretlet exiting', code: 1, drained: false });
      // It did not wait for the start: the door never opened.
      expect(records.some((r) => r['msg'] === 'csi door listening')).toBe(false);
      child = undefined;
    } finally {
      close();
    }
  }, 120_000);

  it('exits at once on a second signal, cutting off the drain, with its last log line', async () => {
    const { outcome, child: serve } = await startWithStuckMount('10m');
    process.kill(serve.pid, 'SIGINT');
    await until(() => serve.lines.find((l) => l.includes('received signal, draining')), 'the drain to start');
    // The drain would wait ten minutes for the stuck mount; the second signal does not.
    process.kill(serve.pid, 'SIGINT');
    expect(await serve.exited).toEqual({ code: 1, signal: null });
    expect(typeof (await outcome)).toBe('number');
    const records = serve.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.some((r) => r['msg'] === 'second signal, exiting without finishing the drain' && r['inFlight'] === 1)).toBe(true);
    expect(records.at(-1)).toMatchObject({ msg: 'secretlet exiting', code: 1, drained: false });
    child = undefined;
  }, 120_000);
});
