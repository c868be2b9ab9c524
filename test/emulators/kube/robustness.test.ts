/**
 * Bad input through the real client-node and raw HTTPS: a malformed body, patch or URL is the
 * client's error (400/405/422 Status, as a real API server answers), never a 500, and one bad object
 * can never be stored where it would break later deletes.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, rawRequest, startWithClients } from './helpers.js';
import type { Clients } from './helpers.js';

let c: Clients;
beforeAll(async () => {
  c = await startWithClients({}, ['bad-meta', 'bad-patch', 'wide-a', 'wide-b']);
});
afterAll(async () => {
  await c.emulator.stop();
});

/** A raw request with the kubeconfig's token, its Status parsed. */
async function send(path: string, method: string, body?: unknown, contentType = 'application/json'): Promise<{ code: number; status: Record<string, unknown> }> {
  const res = await rawRequest(c.emulator, path, { method, token: c.emulator.token, ...(body === undefined ? {} : { body: JSON.stringify(body), contentType }) });
  return { code: res.code, status: JSON.parse(res.body) as Record<string, unknown> };
}

describe('malformed metadata', () => {
  it.each([
    ['ownerReferences that are an object', { ownerReferences: {} }, 'ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference'],
    ['ownerReferences holding null', { ownerReferences: [null] }, 'ObjectMeta.metadata.ownerReferences of type v1.OwnerReference'],
    ['an owner reference whose uid is a number', { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 7 }] }, 'OwnerReference.metadata.ownerReferences.uid of type types.UID'],
    ['labels that are not a string map', { labels: { tier: 1 } }, 'ObjectMeta.metadata.labels of type map[string]string'],
    ['annotations that are a string', { annotations: 'x' }, 'ObjectMeta.metadata.annotations of type map[string]string'],
    ['finalizers that are not strings', { finalizers: [true] }, 'ObjectMeta.metadata.finalizers of type []string'],
  ])('refuses %s with 400 BadRequest', async (_what, metadata, where) => {
    const refused = await send('/api/v1/namespaces/bad-meta/secrets', 'POST', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad', ...metadata } });
    expect(refused.code).toBe(400);
    expect(refused.status).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400, message: expect.stringContaining(where) });
    expect(refused.status['message']).toMatch(/^Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal /);
    expect(c.emulator.get('v1', 'Secret', 'bad-meta', 'bad')).toBeUndefined();
  });

  it('refuses malformed metadata in an update and a patch, leaving the object as it was', async () => {
    const created = await c.core.createNamespacedServiceAccount({ namespace: 'bad-meta', body: { metadata: { name: 'kept', labels: { a: '1' } } } });
    const put = await send('/api/v1/namespaces/bad-meta/serviceaccounts/kept', 'PUT', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kept', ownerReferences: {} } });
    expect(put.code).toBe(400);
    const patched = await send('/api/v1/namespaces/bad-meta/serviceaccounts/kept', 'PATCH', { metadata: { labels: ['x'] } }, 'application/merge-patch+json');
    expect(patched.code).toBe(400);
    const read = await c.core.readNamespacedServiceAccount({ name: 'kept', namespace: 'bad-meta' });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    expect(read.metadata?.labels).toEqual({ a: '1' });
  });

  it('refuses an owner reference that names no owner with 422 Invalid, one cause per missing field', async () => {
    const refused = await failure(c.core.createNamespacedSecret({ namespace: 'bad-meta', body: { metadata: { name: 'orphan', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: '', uid: '' }] } } }));
    expect(refused.status).toMatchObject({
      code: 422,
      reason: 'Invalid',
      message: 'Secret "orphan" is invalid: [metadata.ownerReferences.name: Invalid value: "": name must not be empty, metadata.ownerReferences.uid: Invalid value: "": uid must not be empty]',
      details: {
        name: 'orphan',
        kind: 'Secret',
        causes: [
          { reason: 'FieldValueInvalid', field: 'metadata.ownerReferences.name', message: 'Invalid value: "": name must not be empty' },
          { reason: 'FieldValueInvalid', field: 'metadata.ownerReferences.uid', message: 'Invalid value: "": uid must not be empty' },
        ],
      },
    });
  });

  it('keeps deleting, and deletes a whole namespace, after a malformed object was refused', async () => {
    await c.core.createNamespace({ body: { metadata: { name: 'after-bad' } } });
    expect((await send('/api/v1/namespaces/after-bad/secrets', 'POST', { metadata: { name: 'bad', ownerReferences: {} } })).code).toBe(400);
    expect((await send('/api/v1/namespaces/after-bad/secrets', 'POST', { metadata: { name: 'bad2', ownerReferences: [null] } })).code).toBe(400);
    await c.core.createNamespacedSecret({ namespace: 'after-bad', body: { metadata: { name: 'fine' } } });
    await c.core.createNamespacedServiceAccount({ namespace: 'after-bad', body: { metadata: { name: 'app' } } });

    await c.core.deleteNamespacedServiceAccount({ name: 'app', namespace: 'after-bad' });
    await c.core.deleteNamespace({ name: 'after-bad' });
    expect(c.emulator.list('v1', 'Secret', 'after-bad')).toEqual([]);
    expect(c.emulator.list('v1', 'ServiceAccount', 'after-bad')).toEqual([]);
  });
});

describe('malformed patches', () => {
  it('answers 400 BadRequest for a JSON patch that is not a list of operations', async () => {
    await c.core.createNamespacedSecret({ namespace: 'bad-patch', body: { metadata: { name: 's' }, data: { k: 'djE=' } } });
    for (const body of [[null], [{ op: 'add', value: 'x' }], { op: 'add', path: '/x' }]) {
      const refused = await send('/api/v1/namespaces/bad-patch/secrets/s', 'PATCH', body, 'application/json-patch+json');
      expect(refused.code).toBe(400);
      expect(refused.status).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
    }
  });

  it('answers 422 Invalid for a JSON patch whose test fails or whose path is missing, and changes nothing', async () => {
    const before = await c.core.createNamespacedSecret({ namespace: 'bad-patch', body: { metadata: { name: 't' }, data: { k: 'djE=' } } });
    for (const body of [
      [{ op: 'test', path: '/data/k', value: 'djI=' }, { op: 'replace', path: '/data/k', value: 'djM=' }],
      [{ op: 'remove', path: '/data/missing' }],
      [{ op: 'replace', path: '/spec/nothing/here', value: 1 }],
    ]) {
      const refused = await failure(
        c.core.patchNamespacedSecret({ name: 't', namespace: 'bad-patch', body }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)),
      );
      expect(refused.status).toMatchObject({ code: 422, reason: 'Invalid', message: 'the server rejected our request due to an error in our request' });
    }
    const after = await c.core.readNamespacedSecret({ name: 't', namespace: 'bad-patch' });
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });
});

describe('malformed and unsupported URLs', () => {
  it.each(['/api/v1/namespaces/%/pods', '/api/v1/namespaces/default/secrets/%zz', '/apis/secrets-store.csi.x-k8s.io/v1/namespaces/%E0%A4%A/secretproviderclasses'])(
    'answers %s with 400 BadRequest',
    async (path) => {
      const res = await send(path, 'GET');
      expect(res.code).toBe(400);
      expect(res.status).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    },
  );

  it('refuses DELETE on an all-namespaces collection URL with 405, deleting nothing', async () => {
    await c.core.createNamespacedSecret({ namespace: 'wide-a', body: { metadata: { name: 'a' } } });
    await c.core.createNamespacedSecret({ namespace: 'wide-b', body: { metadata: { name: 'b' } } });
    const refused = await send('/api/v1/secrets', 'DELETE');
    expect(refused.code).toBe(405);
    expect(refused.status).toMatchObject({ reason: 'MethodNotAllowed' });
    expect(c.emulator.get('v1', 'Secret', 'wide-a', 'a')).toBeDefined();
    expect(c.emulator.get('v1', 'Secret', 'wide-b', 'b')).toBeDefined();
    // The namespaced collection still supports deletecollection.
    await c.core.deleteCollectionNamespacedSecret({ namespace: 'wide-a' });
    expect(c.emulator.list('v1', 'Secret', 'wide-a')).toEqual([]);
    expect(c.emulator.get('v1', 'Secret', 'wide-b', 'b')).toBeDefined();
  });

  it('refuses a body over 3 MiB with 413 RequestEntityTooLarge, storing nothing, and keeps serving the client', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const refused = await failure(c.core.createNamespacedSecret({ namespace: 'wide-a', body: { metadata: { name: 'huge' }, stringData: { blob: big } } }));
    expect(refused).toEqual({ code: 413, status: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Request entity too large: limit is 3145728', reason: 'RequestEntityTooLarge', code: 413 } });
    expect(c.emulator.get('v1', 'Secret', 'wide-a', 'huge')).toBeUndefined();
    // Just under the limit the body is read, and the Secret's own 1 MiB limit answers instead.
    const tooLong = await failure(c.core.createNamespacedSecret({ namespace: 'wide-a', body: { metadata: { name: 'huge' }, stringData: { blob: big.slice(200) } } }));
    expect(tooLong).toMatchObject({ code: 422, status: { reason: 'Invalid' } });
    await c.core.createNamespacedSecret({ namespace: 'wide-a', body: { metadata: { name: 'small' }, stringData: { blob: 'x' } } });
    expect(c.emulator.get('v1', 'Secret', 'wide-a', 'small')).toBeDefined();
  });
});
