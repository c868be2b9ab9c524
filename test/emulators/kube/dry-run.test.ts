/**
 * `dryRun=All` through real kubectl (create/label/delete --dry-run=server, diff) and plain HTTP:
 * the answer is what would be stored, and nothing is written (no object, no resourceVersion bump,
 * no watch event, no cascade). Also the protected namespaces NamespaceLifecycle refuses to delete.
 */
import { describe, expect, it } from 'vitest';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';
import { rawRequest } from './helpers.js';
import { emulatorWithKubectl, kubectlAvailable } from './kubectl-session.js';
import type { KubectlSession } from './kubectl-session.js';

let emulator: KubeEmulator;
let kubectl: KubectlSession;
emulatorWithKubectl((e, k) => {
  emulator = e;
  kubectl = k;
});

/** The store's current resourceVersion, as a list reports it. */
async function storeVersion(): Promise<string> {
  const listed = await rawRequest(emulator, '/api/v1/namespaces', { token: emulator.token });
  return (JSON.parse(listed.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
}

function json(body: string): Record<string, unknown> {
  return JSON.parse(body) as Record<string, unknown>;
}

describe.skipIf(!kubectlAvailable())('server-side dry run through kubectl', () => {
  it('create --dry-run=server answers the defaulted object and stores nothing', async () => {
    const before = await storeVersion();
    const out = await kubectl.run('create', 'secret', 'generic', 'dry', '--from-literal=k=v', '--dry-run=server', '-o', 'json');
    expect(out.code).toBe(0);
    const secret = json(out.stdout) as { type: string; metadata: { uid?: string; resourceVersion?: string } };
    expect(secret.type).toBe('Opaque');
    expect(secret.metadata.uid).toBeDefined();
    expect(secret.metadata.resourceVersion).toBeUndefined();
    expect((await kubectl.run('create', 'namespace', 'dry-ns', '--dry-run=server')).stdout).toContain('namespace/dry-ns created (server dry run)');
    expect(emulator.get('v1', 'Secret', 'default', 'dry')).toBeUndefined();
    expect(emulator.get('v1', 'Namespace', undefined, 'dry-ns')).toBeUndefined();
    expect(await storeVersion()).toBe(before);
  });

  it('label and delete --dry-run=server leave the object, its resourceVersion and its dependents as they were', async () => {
    const owner = emulator.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'owner', namespace: 'default' } });
    emulator.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'dependent', namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: 'owner', uid: owner.metadata.uid ?? '' }] },
    });
    const before = await storeVersion();
    const labelled = await kubectl.run('label', 'secret', 'owner', 'tier=db', '--dry-run=server', '-o', 'json');
    expect((json(labelled.stdout) as { metadata: { labels: Record<string, string> } }).metadata.labels).toEqual({ tier: 'db' });
    expect((await kubectl.run('delete', 'secret', 'owner', '--dry-run=server')).stdout).toContain('secret "owner" deleted (server dry run)');
    expect(emulator.get('v1', 'Secret', 'default', 'owner')?.metadata.labels).toBeUndefined();
    expect(emulator.get('v1', 'Secret', 'default', 'dependent')).toBeDefined();
    expect(await storeVersion()).toBe(before);
  });

  it('kubectl diff shows the change and writes nothing', async () => {
    emulator.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'diffed', namespace: 'default' }, data: { k: 'djE=' } });
    const before = await storeVersion();
    const file = await kubectl.file('diffed.yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: diffed\n  labels: {changed: "yes"}\ndata:\n  k: djE=\n');
    const diff = await kubectl.run('diff', '-f', file);
    expect(diff.code).toBe(1); // kubectl diff exits 1 when there are differences
    expect(diff.stdout).toContain('+    changed: "yes"');
    expect(emulator.get('v1', 'Secret', 'default', 'diffed')?.metadata.labels).toBeUndefined();
    expect(await storeVersion()).toBe(before);
  });

  it('refuses to delete default, kube-system and kube-public (403), and offers no namespace deletecollection', async () => {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      const out = await kubectl.run('delete', 'namespace', name);
      expect(out.stderr).toContain(`Error from server (Forbidden): namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
    expect(emulator.get('v1', 'Namespace', undefined, 'default')).toBeDefined();
    const collection = await rawRequest(emulator, '/api/v1/namespaces', { token: emulator.token, method: 'DELETE' });
    expect(collection.code).toBe(405);
    const discovery = json((await rawRequest(emulator, '/api/v1', { token: emulator.token })).body) as { resources: { name: string; verbs: string[] }[] };
    expect(discovery.resources.find((r) => r.name === 'namespaces')?.verbs).not.toContain('deletecollection');
    expect(discovery.resources.find((r) => r.name === 'secrets')?.verbs).toContain('deletecollection');
  });
});

describe('dryRun over HTTP', () => {
  it('dry-runs PUT, PATCH, a status write and DELETE without a watch event', async () => {
    emulator.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'plain', namespace: 'default' }, data: { k: 'djE=' } });
    emulator.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    const before = await storeVersion();
    const token = emulator.token;
    const put = await rawRequest(emulator, '/api/v1/namespaces/default/secrets/plain?dryRun=All', {
      token,
      method: 'PUT',
      contentType: 'application/json',
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'plain' }, data: { k: 'djI=' } }),
    });
    expect(put.code).toBe(200);
    expect((json(put.body) as { data: Record<string, string> }).data).toEqual({ k: 'djI=' });
    const status = await rawRequest(emulator, '/api/v1/namespaces/default/pods/p/status?dryRun=All', {
      token,
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ status: { phase: 'Running' } }),
    });
    expect((json(status.body) as { status: { phase: string } }).status.phase).toBe('Running');
    const deleted = await rawRequest(emulator, '/api/v1/namespaces/default/secrets/plain', {
      token,
      method: 'DELETE',
      contentType: 'application/json',
      body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] }),
    });
    expect(deleted.code).toBe(200);
    expect(emulator.get('v1', 'Secret', 'default', 'plain')?.['data']).toEqual({ k: 'djE=' });
    expect(emulator.get('v1', 'Pod', 'default', 'p')?.['status']).toEqual({ phase: 'Pending' });
    expect(await storeVersion()).toBe(before);
    const watched = await rawRequest(emulator, `/api/v1/secrets?watch=1&resourceVersion=${before}&timeoutSeconds=1`, { token });
    expect(watched.body).toBe('');
  });

  it('answers an unsupported dryRun value with the options 422 the API server gives', async () => {
    const res = await rawRequest(emulator, '/api/v1/namespaces/default/secrets?dryRun=Yes', {
      token: emulator.token,
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ metadata: { name: 'never' } }),
    });
    expect(res.code).toBe(422);
    expect(json(res.body)).toMatchObject({
      reason: 'Invalid',
      message: 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Yes"]: supported values: "All"',
      details: { group: 'meta.k8s.io', kind: 'CreateOptions', causes: [{ reason: 'FieldValueNotSupported', field: 'dryRun' }] },
    });
    expect(emulator.get('v1', 'Secret', 'default', 'never')).toBeUndefined();
  });
});
