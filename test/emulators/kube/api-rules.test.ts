/**
 * Registry rules a user meets through kubectl and client-node: strategic merge patch directives,
 * Pod and Namespace strategies, ObjectMeta validation, metadata.generation per kind, name
 * messages, protobuf bodies, and the answers of DELETE and of bodies the server cannot take.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OwnerReference } from '../../../src/emulators/kube/types.js';
import { CSI_GROUP, failure, rawRequest, startWithClients } from './helpers.js';
import type { Clients } from './helpers.js';
import { kubectlAvailable, kubectlSession } from './kubectl-session.js';
import type { KubectlSession } from './kubectl-session.js';

const container = { name: 'c', image: 'x' };
let c: Clients;
let kubectl: KubectlSession;
beforeAll(async () => {
  c = await startWithClients({}, ['rules']);
  kubectl = await kubectlSession(c.emulator);
});
afterAll(async () => {
  await kubectl.close();
  await c.emulator.stop();
});

const owner = (name: string, uid: string, controller?: boolean): OwnerReference => ({ apiVersion: 'v1', kind: 'Pod', name, uid, ...(controller === undefined ? {} : { controller }) });

describe.skipIf(!kubectlAvailable())('through kubectl', () => {
  it('kubectl patch with $patch: delete removes one owner reference by uid and $deleteFromPrimitiveList a finalizer', async () => {
    c.emulator.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'owned', namespace: 'rules', finalizers: ['a.io/x', 'a.io/y'], ownerReferences: [owner('a', 'u1'), owner('b', 'u2')] } });
    const patch = JSON.stringify({ metadata: { ownerReferences: [{ $patch: 'delete', uid: 'u1' }], '$deleteFromPrimitiveList/finalizers': ['a.io/x'] } });
    expect((await kubectl.run('patch', '-n', 'rules', 'secret', 'owned', '-p', patch)).stdout).toContain('secret/owned patched');
    const stored = c.emulator.get('v1', 'Secret', 'rules', 'owned');
    expect(stored?.metadata.ownerReferences).toEqual([owner('b', 'u2')]);
    expect(stored?.metadata.finalizers).toEqual(['a.io/y']);
  });

  it('kubectl get all lists pods', async () => {
    c.emulator.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'listed', namespace: 'rules' }, spec: { containers: [container] } });
    // One kind found: kubectl prints plain names (a `pod/` prefix only when several kinds are listed).
    expect((await kubectl.run('get', 'all', '-n', 'rules')).stdout).toMatch(/^listed\s/m);
  });

  it('kubectl create namespace with an invalid name prints the DNS-1123 label message', async () => {
    const out = await kubectl.run('create', 'namespace', 'Bad_Name');
    expect(out.stderr).toContain(
      `metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    );
  });

  it('kubectl create secret (protobuf) stores no empty generateName', async () => {
    await kubectl.run('create', 'secret', 'generic', 'proto', '-n', 'rules', '--from-literal=k=v');
    expect(c.emulator.get('v1', 'Secret', 'rules', 'proto')?.metadata).not.toHaveProperty('generateName');
  });
});

describe('Pod and Namespace strategies', () => {
  it('a created Pod starts Pending with its QoS class whatever status it was sent, and keeps its spec immutable', async () => {
    const pod = await c.core.createNamespacedPod({ namespace: 'rules', body: { metadata: { name: 'web' }, spec: { containers: [container] }, status: { phase: 'Running' } } });
    expect(pod.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
    expect(pod.metadata?.generation).toBeUndefined();
    const changed = await failure(c.core.replaceNamespacedPod({ name: 'web', namespace: 'rules', body: { ...pod, spec: { ...pod.spec, containers: [container], nodeName: 'elsewhere' } } }));
    expect(changed.status).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(changed.status['message']).toContain('Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`');
    const image = await c.core.replaceNamespacedPod({ name: 'web', namespace: 'rules', body: { ...pod, spec: { ...pod.spec, containers: [{ ...container, image: 'y' }] } } });
    expect(image.spec?.containers[0]?.image).toBe('y');
  });

  it('a created Namespace is Active whatever status it was sent', async () => {
    const ns = await c.core.createNamespace({ body: { metadata: { name: 'fresh' }, status: { phase: 'Terminating' } } });
    expect(ns.status?.phase).toBe('Active');
  });
});

describe('ObjectMeta', () => {
  it('refuses two controller owner references, an unqualified finalizer and a create with a resourceVersion', async () => {
    const two = await failure(
      c.core.createNamespacedSecret({ namespace: 'rules', body: { metadata: { name: 's1', ownerReferences: [owner('a', 'u1', true), owner('b', 'u2', true)] } } }),
    );
    expect(two.status['message']).toBe(
      'Secret "s1" is invalid: metadata.ownerReferences: Invalid value: [{"apiVersion":"v1","kind":"Pod","name":"a","uid":"u1","controller":true},{"apiVersion":"v1","kind":"Pod","name":"b","uid":"u2","controller":true}]: Only one reference can have Controller set to true. Found "true" in references for Pod/a and Pod/b',
    );
    const finalizer = await failure(c.core.createNamespacedSecret({ namespace: 'rules', body: { metadata: { name: 's2', finalizers: ['custom'] } } }));
    expect(finalizer.status['message']).toBe('Secret "s2" is invalid: metadata.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified');
    const versioned = await failure(c.core.createNamespacedSecret({ namespace: 'rules', body: { metadata: { name: 's3', resourceVersion: '12' } } }));
    expect(versioned.code).toBe(500);
    expect(versioned.status).toMatchObject({ status: 'Failure', message: 'resourceVersion should not be set on objects to be created' });
    expect(versioned.status).not.toHaveProperty('reason');
  });
});

describe('metadata.generation', () => {
  it('custom resources bump it on any change outside metadata (their CRD has no status subresource); Secrets carry none', async () => {
    const params = { group: CSI_GROUP, version: 'v1', namespace: 'rules', plural: 'secretproviderclasspodstatuses' };
    const body = { apiVersion: `${CSI_GROUP}/v1`, kind: 'SecretProviderClassPodStatus', metadata: { name: 'st' }, status: { mounted: false } };
    const created = (await c.custom.createNamespacedCustomObject({ ...params, body })) as { metadata: { generation: number; resourceVersion: string } };
    expect(created.metadata.generation).toBe(1);
    const replaced = (await c.custom.replaceNamespacedCustomObject({ ...params, name: 'st', body: { ...body, metadata: { name: 'st', resourceVersion: created.metadata.resourceVersion }, status: { mounted: true } } })) as {
      metadata: { generation: number };
    };
    expect(replaced.metadata.generation).toBe(2);
    const secret = await c.core.createNamespacedSecret({ namespace: 'rules', body: { metadata: { name: 'nogen' } } });
    expect(secret.metadata?.generation).toBeUndefined();
  });
});

describe('DELETE answers and bodies the server cannot take', () => {
  it('answers a Secret delete with a Status of success and a Pod delete with the Pod; Orphan drops an emptied ownerReferences', async () => {
    const parent = await c.core.createNamespacedSecret({ namespace: 'rules', body: { metadata: { name: 'parent' } } });
    await c.core.createNamespacedSecret({ namespace: 'rules', body: { metadata: { name: 'child', ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: 'parent', uid: parent.metadata?.uid ?? '' }] } } });
    const res = await rawRequest(c.emulator, '/api/v1/namespaces/rules/secrets/parent?propagationPolicy=Orphan', { token: c.emulator.token, method: 'DELETE' });
    expect(JSON.parse(res.body)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'parent', kind: 'secrets', uid: parent.metadata?.uid } });
    expect(c.emulator.get('v1', 'Secret', 'rules', 'child')?.metadata).not.toHaveProperty('ownerReferences');
    await c.core.createNamespacedPod({ namespace: 'rules', body: { metadata: { name: 'gone' }, spec: { containers: [container] } } });
    const pod = await rawRequest(c.emulator, '/api/v1/namespaces/rules/pods/gone', { token: c.emulator.token, method: 'DELETE' });
    expect(JSON.parse(pod.body)).toMatchObject({ kind: 'Pod', metadata: { name: 'gone' } });
  });

  it('refuses a text/plain body with 415 and a body of another kind with 400', async () => {
    const plain = await rawRequest(c.emulator, '/api/v1/namespaces/rules/secrets', { token: c.emulator.token, method: 'POST', contentType: 'text/plain', body: 'hello' });
    expect(JSON.parse(plain.body)).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    const other = await rawRequest(c.emulator, '/api/v1/namespaces/rules/secrets', {
      token: c.emulator.token,
      method: 'POST',
      contentType: 'application/json',
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } }),
    });
    expect(JSON.parse(other.body)).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(c.emulator.get('v1', 'Secret', 'rules', 'cm')).toBeUndefined();
  });
});
