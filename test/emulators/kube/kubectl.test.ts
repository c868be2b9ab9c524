/**
 * The emulator through the real kubectl: apply a SecretProviderClass fixture (twice), get -o json,
 * describe, create/annotate a service account, create token. Skipped, with a message, only when no
 * kubectl binary is on the PATH.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runValidate } from '../../../src/cli/validate.js';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';
import { SPC_FIXTURES_DIR } from '../../support/paths.js';

const run = promisify(execFile);
const FIXTURE = join(SPC_FIXTURES_DIR, 'irsa-explicit.yaml');

function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('kubectl is not on the PATH: skipping the kubectl tests of the Kubernetes emulator');
    return false;
  }
}

describe.skipIf(!kubectlAvailable())('kubectl against the emulator', () => {
  let emulator: KubeEmulator;
  let dir: string;

  /** Runs kubectl with the emulator's kubeconfig and a private discovery cache. */
  async function kubectl(...args: string[]): Promise<string> {
    const { stdout } = await run('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args], { timeout: 45_000 });
    return stdout;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-emulator-kubectl-'));
    emulator = await startKubeEmulator();
    await emulator.writeKubeconfig(join(dir, 'kubeconfig'));
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies a SecretProviderClass fixture, then reports it unchanged, and gets it as JSON', async () => {
    expect(await kubectl('apply', '-f', FIXTURE)).toContain('secretproviderclass.secrets-store.csi.x-k8s.io/example-irsa-spc created');
    expect(await kubectl('apply', '-f', FIXTURE)).toContain('example-irsa-spc unchanged');
    const spc = JSON.parse(await kubectl('get', 'secretproviderclass', 'example-irsa-spc', '-o', 'json')) as { spec: { provider: string; parameters: Record<string, string> } };
    expect(spc.spec.provider).toBe('aws');
    expect(spc.spec.parameters['objects']).toContain('MySecret');
    expect(emulator.get('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClass', 'default', 'example-irsa-spc')).toBeDefined();
  });

  it('applies a v1alpha1 SecretProviderClass (deprecated, served like the CRD serves it) and reads it through both versions', async () => {
    const file = join(dir, 'spc-v1alpha1.yaml');
    await writeFile(
      file,
      'apiVersion: secrets-store.csi.x-k8s.io/v1alpha1\nkind: SecretProviderClass\nmetadata:\n  name: legacy-spc\nspec:\n  provider: aws\n  parameters:\n    objects: "- objectName: Legacy\\n"\n',
    );
    const first = await run('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), 'apply', '-f', file], { timeout: 45_000 });
    expect(first.stdout).toContain('secretproviderclass.secrets-store.csi.x-k8s.io/legacy-spc created');
    expect(first.stderr).toContain('secrets-store.csi.x-k8s.io/v1alpha1 SecretProviderClass is deprecated');
    expect(await kubectl('apply', '-f', file)).toContain('legacy-spc unchanged');

    const alpha = JSON.parse(await kubectl('get', 'secretproviderclasses.v1alpha1.secrets-store.csi.x-k8s.io', 'legacy-spc', '-o', 'json')) as { apiVersion: string; spec: { provider: string } };
    expect(alpha).toMatchObject({ apiVersion: 'secrets-store.csi.x-k8s.io/v1alpha1', spec: { provider: 'aws' } });
    const stored = JSON.parse(await kubectl('get', 'secretproviderclass', 'legacy-spc', '-o', 'json')) as { apiVersion: string };
    expect(stored.apiVersion).toBe('secrets-store.csi.x-k8s.io/v1');
    // Gone through either version (and out of the way of the migration step below, which lists every SPC).
    await kubectl('delete', '-f', file);
    expect(emulator.get('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClass', 'default', 'legacy-spc')).toBeUndefined();
  });

  it('gets and describes SecretProviderClassPodStatuses written by the agent', async () => {
    emulator.apply({
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClassPodStatus',
      metadata: { name: 'web-default-example-irsa-spc', namespace: 'default', labels: { 'internal.secrets-store.csi.k8s.io/node-name': 'node-1' } },
      status: { podName: 'web', secretProviderClassName: 'example-irsa-spc', mounted: true, objects: [{ id: 'MySecret', version: 'v7' }] },
    });
    const yaml = await kubectl('get', 'secretproviderclasspodstatuses', '-o', 'yaml');
    expect(yaml).toContain('secretProviderClassName: example-irsa-spc');
    const described = await kubectl('describe', 'secretproviderclasspodstatus', 'web-default-example-irsa-spc');
    expect(described).toMatch(/Pod Name:\s+web/);
    expect(described).toMatch(/Version:\s+v7/);
  });

  it('gets a Secret as JSON', async () => {
    emulator.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'default' }, stringData: { password: 'pw' } });
    const secret = JSON.parse(await kubectl('get', 'secret', 'x', '-o', 'json')) as { data: Record<string, string> };
    expect(Buffer.from(secret.data['password'] ?? '', 'base64').toString()).toBe('pw');
  });

  it('creates and annotates a service account, and creates a token for it', async () => {
    expect(await kubectl('create', 'serviceaccount', 'app')).toContain('serviceaccount/app created');
    await kubectl('annotate', 'serviceaccount', 'app', 'eks.amazonaws.com/role-arn=arn:aws:iam::111122223333:role/app');
    const sa = emulator.get('v1', 'ServiceAccount', 'default', 'app');
    expect(sa?.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/app' });
    const token = (await kubectl('create', 'token', 'app', '--audience', 'sts.amazonaws.com')).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string; aud: string[] };
    expect(claims).toMatchObject({ sub: 'system:serviceaccount:default:app', aud: ['sts.amazonaws.com'] });
  });

  it('applies a Secret manifest with strategic merge on the second apply', async () => {
    const file = join(dir, 'secret.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: applied\n  labels: {tier: "db"}\ndata:\n  k: djE=\n');
    await kubectl('apply', '-f', file);
    await writeFile(file, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: applied\ndata:\n  k: djI=\n');
    expect(await kubectl('apply', '-f', file)).toContain('secret/applied configured');
    const secret = emulator.get('v1', 'Secret', 'default', 'applied');
    expect(secret?.['data']).toEqual({ k: 'djI=' });
    expect(secret?.metadata.labels).toBeUndefined();
  });

  it("runs the README's first migration step: every SPC of the cluster through `secretlet validate`", async () => {
    await kubectl('create', 'namespace', 'team-b');
    await kubectl('apply', '-f', FIXTURE);
    await kubectl('apply', '-n', 'team-b', '-f', join(SPC_FIXTURES_DIR, 'jmespath-failover.yaml'));
    // kubectl prints several objects as one `kind: List` document.
    const listed = join(dir, 'spcs.yaml');
    await writeFile(listed, await kubectl('get', 'secretproviderclasses', '-A', '-o', 'yaml'));
    const out: string[] = [];
    const err: string[] = [];
    expect(await runValidate([listed], { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(0);
    expect(err).toEqual([]);
    expect(out.filter((l) => l.includes(': ok (')).map((l) => l.split(': ')[1])).toEqual(expect.arrayContaining(['default/example-irsa-spc', 'team-b/jmes-failover']));
  });
});
