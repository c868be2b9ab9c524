/**
 * `secretlet serve` refusing its flags at start, as an operator reads it: exit code 1 and one line
 * on stderr that names the flag they typed (not the agent's option key) and quotes the value.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', ...args], { cwd: ROOT, timeout: 30_000, env: { ...process.env, NODE_NAME: 'node-1', ...env } });
    return { code: 0, stderr: '' };
  } catch (e) {
    const failed = e as { code?: number; stderr?: string };
    return { code: failed.code ?? -1, stderr: failed.stderr ?? '' };
  }
}

/** The `secretlet: …` line (node may print its own warnings around it). */
const errorLine = (stderr: string): string | undefined => stderr.split('\n').find((l) => l.startsWith('secretlet: '));

describe('secretlet serve refuses bad flags at start, naming them', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secretlet-serve-flags-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    [['--rotation-interval=-1s'], 'secretlet: --rotation-interval must not be negative (got "-1s")'],
    [['--log-level=verbose'], 'secretlet: --log-level must be one of trace, debug, info, warn, error, fatal, silent'],
    [['--fleet-size=0x10'], 'secretlet: --fleet-size must be a whole number (got "0x10")'],
    [['--fleet-size=0'], 'secretlet: --fleet-size must be a positive integer'],
    [['--metrics-addr=notaport'], 'secretlet: --metrics-addr must be host:port or :port, or empty to turn it off (got "notaport")'],
    [['--value-cache-ttl=5m', '--rotation-interval=2m'], 'secretlet: --value-cache-ttl (5m) must be shorter than --rotation-interval (2m), or rotation would re-serve cached values'],
    [['--mode=both', '--csi-endpoint=unix:///tmp/one.sock', '--provider-socket=/tmp/one.sock'], 'secretlet: --csi-endpoint and --provider-socket name the same socket (/tmp/one.sock); with mode both each door needs its own'],
    [['--provider-volume=/tmp/a', '--provider-socket=/tmp/b/aws.sock', '--mode=provider'], 'secretlet: --provider-socket is set twice (/tmp/a/aws.sock and /tmp/b/aws.sock), directly or through -provider-volume: give one'],
  ])('%j', async (args, expected) => {
    const r = await serve(args);
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toBe(expected);
  });

  it('names --kubeconfig and --state-dir when the files they point at cannot be used', async () => {
    const missing = join(dir, 'missing-kubeconfig');
    const kube = await serve(['--mode=provider', `--kubeconfig=${missing}`, `--state-dir=${join(dir, 'state')}`, '--metrics-addr=', `--provider-socket=${join(dir, 'p.sock')}`]);
    expect(kube.code).toBe(1);
    expect(errorLine(kube.stderr)).toBe(`secretlet: --kubeconfig: cannot load ${missing}: ENOENT`);

    const file = join(dir, 'a-file');
    await writeFile(file, '');
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    const state = await serve(['--mode=provider', `--kubeconfig=${kubeconfig}`, `--state-dir=${join(file, 'sub')}`, '--metrics-addr=', `--provider-socket=${join(dir, 'p2.sock')}`]);
    expect(state.code).toBe(1);
    expect(errorLine(state.stderr)).toBe(`secretlet: --state-dir: cannot create ${join(file, 'sub')}: ENOTDIR`);
  });

  it('names --metrics-addr (or SECRETLET_METRICS_ADDR) when its port is taken', async () => {
    const kubeconfig = join(dir, 'kubeconfig-metrics');
    await writeFile(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const addr = `127.0.0.1:${(taken.address() as AddressInfo).port}`;
    const args = ['--mode=provider', `--kubeconfig=${kubeconfig}`, `--state-dir=${join(dir, 'state-metrics')}`, `--provider-socket=${join(dir, 'p3.sock')}`];
    try {
      const flag = await serve([...args, `--metrics-addr=${addr}`]);
      expect(flag.code).toBe(1);
      expect(errorLine(flag.stderr)).toBe(`secretlet: --metrics-addr: cannot listen on ${addr}: EADDRINUSE`);
      const env = await serve(args, { SECRETLET_METRICS_ADDR: addr });
      expect(errorLine(env.stderr)).toBe(`secretlet: SECRETLET_METRICS_ADDR: cannot listen on ${addr}: EADDRINUSE`);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
