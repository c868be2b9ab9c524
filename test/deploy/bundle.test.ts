/**
 * The agent as the image runs it: `/app` laid out as the Dockerfile's runtime stage lays it out —
 * the esbuild bundle in dist/ (scripts/bundle.ts), only the run-time packages in node_modules
 * (scripts/runtime-packages.ts), bin/, package.json and deploy/ — in a directory outside the
 * repository, so nothing can resolve from the repository's node_modules, and started with the
 * image's entrypoint (`node <shipped V8 flags> bin/secretlet.js serve`) against the local emulators.
 * A bundle can break in ways the TypeScript tests cannot see — a run-time file not next to the
 * module that looks for it, a dependency left out — so this drives every file the bundle starts by
 * path: the CLI, the pool's worker thread (pool size 1), the mount helper process with its tmpfs
 * syscalls (root only), the gRPC doors' .proto files, and deploy/ for `secretlet manifests`.
 */
import { cpSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderClient } from '../../src/adapters/grpc/index.js';
import type { ProviderClient } from '../../src/adapters/grpc/index.js';
import { AGENT_NODE_FLAGS } from '../../src/config/node-flags.js';
import type { AgentOptions } from '../../src/config/agent-options.js';
import { SERVE_FLAGS } from '../../src/cli/serve-flags.js';
import { startLocalStack } from '../../src/emulators/local-stack.js';
import type { LocalStack } from '../../src/emulators/local-stack.js';
import { EXTERNAL_PACKAGES, OPTIONAL_ABSENT_PACKAGES, SHIPPED_ENTRIES, bundleAgent } from '../../scripts/bundle.js';
import { copyRuntimePackages } from '../../scripts/runtime-packages.js';
import { localAgentOptions } from '../support/agent-harness.js';
import { SPC_API_VERSION, applyNode, applySpc, awsSpc } from '../support/kubelet-fixtures.js';
import { filesystemAt, startFakeKubelet } from '../support/kubelet.js';
import type { FakeKubelet, KubeletPod } from '../support/kubelet.js';
import { REPO_ROOT } from '../support/paths.js';
import { mountCapability } from '../support/privileges.js';
import { driverMountRequest } from '../support/spc-fixtures.js';
import { startCliProcess, until } from '../support/cli-process.js';
import type { CliProcess } from '../support/cli-process.js';

const MOUNT = mountCapability();
const NS = 'bundle';
const SA = 'app';
const OBJECTS = "- objectName: bundle/db\n  objectType: secretsmanager\n  jmesPath:\n    - path: user\n      objectAlias: db-user\n- objectName: /bundle/url\n  objectType: ssmparameter\n";

/** `serve` flags for these options, through the same definitions the CLI parses. */
function serveArgs(options: AgentOptions): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    const def = SERVE_FLAGS.find((f) => f.key === key);
    if (def === undefined) throw new Error(`no serve flag for option ${key}`);
    args.push(`--${def.flag}`, String(value));
  }
  return args;
}

let app = '';
let outdir = '';
let externalImports: string[] = [];
let runtimePackages: string[] = [];

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), 'secretlet-app-'));
  outdir = join(app, 'dist');
  externalImports = (await bundleAgent({ outdir })).externalImports;
  runtimePackages = copyRuntimePackages(app);
  for (const entry of ['package.json', 'bin', 'deploy']) cpSync(join(REPO_ROOT, entry), join(app, entry), { recursive: true });
}, 120_000);

afterAll(async () => {
  if (app !== '') await rm(app, { recursive: true, force: true });
});

/** Runs the image's entrypoint (`node <shipped V8 flags> /app/bin/secretlet.js ...`) from the assembled /app. */
function runCli(args: string[], cwd: string): CliProcess {
  return startCliProcess([...AGENT_NODE_FLAGS], [join(app, 'bin', 'secretlet.js'), ...args], cwd);
}

describe('the image\'s /app: bundle, run-time packages, launcher', () => {
  it('has one file per started entry, the proto files beside them, and imports only node built-ins and the packages left external', async () => {
    const files = await readdir(outdir);
    for (const name of Object.keys(SHIPPED_ENTRIES)) expect(files).toContain(`${name}.js`);
    expect((await readdir(join(outdir, 'proto'))).sort()).toEqual(['csi.proto', 'provider.proto']);
    // Anything else left external would be missing from the image's bundle and fail at run time.
    const packages = externalImports.filter((s) => !s.startsWith('node:') && !builtinModules.includes(s));
    const allowed = [...EXTERNAL_PACKAGES, ...OPTIONAL_ABSENT_PACKAGES];
    expect(packages.filter((p) => !allowed.some((e) => p === e || p.startsWith(`${e}/`)))).toEqual([]);
    for (const absent of OPTIONAL_ABSENT_PACKAGES) expect(existsSync(join(REPO_ROOT, 'node_modules', absent)), `${absent} is installed: bundle it`).toBe(false);
    // koffi is loaded (by the mount helper) from node_modules, not inlined.
    expect(packages).toContain('koffi');
  });

  it('holds only Latin-1 characters in its JavaScript, so V8 keeps each source one byte per character', async () => {
    // One character beyond Latin-1 in a string or regex literal (a Greek mu in the duration parser,
    // 2026-12-07) made V8 store the 4 MB agent bundle as a two-byte string: +4 MiB RSS at start and
    // at every peak of the density benchmark. Escape such characters in the source (\u03bc).
    const offenders: string[] = [];
    for (const name of (await readdir(outdir)).filter((f) => f.endsWith('.js'))) {
      const text = await readFile(join(outdir, name), 'utf8');
      const wide = [...new Set([...text].filter((c) => c.codePointAt(0)! > 0xff))];
      if (wide.length > 0) offenders.push(`${name}: ${wide.map((c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`).join(' ')}`);
    }
    expect(offenders).toEqual([]);
  });

  it('needs only the external packages and their dependencies in node_modules, not the whole production install', () => {
    for (const name of EXTERNAL_PACKAGES) expect(runtimePackages).toContain(name);
    expect(runtimePackages).not.toContain('@kubernetes/client-node');
    expect(runtimePackages.some((p) => p.startsWith('@aws-sdk/'))).toBe(false);
  });

  it('renders the install manifests from its deploy/ (`secretlet manifests`)', async () => {
    const proc = runCli(['manifests', '--mode', 'provider'], app);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.lines).toContain('kind: DaemonSet');
  });

  describe('`secretlet serve` from it, as the image runs it', () => {
    let dir = '';
    let stack: LocalStack | undefined;
    let child: CliProcess | undefined;
    let provider: ProviderClient | undefined;
    let kubelet: FakeKubelet | undefined;
    let pod: KubeletPod | undefined;

    afterAll(async () => {
      if (kubelet !== undefined && pod !== undefined) await kubelet.unpublish(pod).catch(() => undefined);
      kubelet?.close();
      provider?.close();
      await child?.kill();
      await stack?.stop();
      if (dir !== '') await rm(dir, { recursive: true, force: true });
    });

    it(`serves both doors with a worker thread${MOUNT.capable ? ' and tmpfs through the mount helper' : ` (kubelet door skipped: ${MOUNT.reason})`}, and exits 0 on SIGTERM`, async () => {
      dir = await mkdtemp(join(tmpdir(), 'secretlet-bundle-'));
      stack = await startLocalStack({ dir });
      applyNode(stack, 'node-1');
      stack.addServiceAccount({ namespace: NS, name: SA, roleArn: 'arn:aws:iam::111122223333:role/bundle', allow: { secrets: ['bundle/*'], parameters: ['/bundle/*'], batchGetSecretValue: true } });
      stack.aws.putSecret({ name: 'bundle/db', region: 'us-east-1', string: JSON.stringify({ user: 'bundle-user' }) });
      stack.aws.putParameter({ name: '/bundle/url', region: 'us-east-1', value: 'https://bundle.internal' });
      const parameters = { region: 'us-east-1', objects: OBJECTS };
      applySpc(stack, awsSpc({ name: 'bundle-spc', namespace: NS, ...parameters }));

      const providerSocket = join(dir, 'provider', 'aws.sock');
      const csiEndpoint = `unix://${join(dir, 'csi', 'csi.sock')}`;
      const options = localAgentOptions({ dir, stack, csiEndpoint, providerSocket }, { mode: MOUNT.capable ? 'both' : 'provider', poolSize: 1, logLevel: 'info', rotationInterval: '0' });
      child = runCli(['serve', ...serveArgs(options)], dir);
      await until(() => child!.lines.find((l) => l.includes('provider door listening')), 'the provider door');

      // Provider door: the driver's Mount.
      provider = createProviderClient(providerSocket);
      const target = join(dir, 'provider-target');
      await mkdir(target, { recursive: true });
      const podRef = { namespace: NS, serviceAccount: SA, podName: 'p-provider', podUid: '00000000-0000-4000-9000-0000000000b1' };
      const answer = await provider.mount(driverMountRequest({ stack, pod: podRef, spcName: 'bundle-spc', parameters, targetPath: target }));
      expect(answer.objectVersion.map((o) => o.id).sort()).toEqual(['_bundle_url', 'bundle_db', 'db-user']);
      expect(await readFile(join(target, 'db-user'), 'utf8')).toBe('bundle-user');
      expect(await readFile(join(target, '_bundle_url'), 'utf8')).toBe('https://bundle.internal');

      if (MOUNT.capable) {
        // Kubelet door: a tmpfs mounted by the helper process, the files, the SecretProviderClassPodStatus.
        kubelet = startFakeKubelet({ stack, csiEndpoint, dir });
        pod = { namespace: NS, name: 'p-kubelet', uid: '00000000-0000-4000-9000-0000000000b2', serviceAccount: SA, secretProviderClass: 'bundle-spc' };
        await kubelet.publish(pod);
        expect(await filesystemAt(kubelet.targetPath(pod))).toBe('tmpfs');
        expect(await kubelet.readFile(pod, 'db-user')).toBe('bundle-user');
        expect(stack.kube.get(SPC_API_VERSION, 'SecretProviderClassPodStatus', NS, `p-kubelet-${NS}-bundle-spc`)).toBeDefined();
        await kubelet.unpublish(pod);
        expect(await filesystemAt(kubelet.targetPath(pod))).toBeUndefined();
        pod = undefined;
      }

      // With pool size 1 every mount's prepare, render and write ran in the worker thread: had the
      // bundle not found mount-worker-thread.js beside itself, both mounts above would have failed.
      process.kill(child.pid, 'SIGTERM');
      expect(await child.exited).toEqual({ code: 0, signal: null });
      const records = child.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records.at(-1)).toMatchObject({ msg: 'secretlet exiting', code: 0, drained: true });
      child = undefined;
    }, 120_000);
  });
});
