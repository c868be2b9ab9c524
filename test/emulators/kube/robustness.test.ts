/**
 * Bad input through the real client-node and raw HTTPS: a malformed body, patch or URL is the
 * client's error (400/405/422 Status, as a real API server answers), never a 500, and one bad object
 * can never be stored where it would break later deletes.
 */
import { request as httpsRequest } from 'node:https';
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

/**
 * A request whose target goes out exactly as written: given a URL string, node's client would
 * resolve `..` and `%2e%2e` itself, and refuse `//[`, before the emulator saw them.
 */
function sendTarget(target: string, method = 'GET'): Promise<{ code: number; status: Record<string, unknown> }> {
  const server = new URL(c.emulator.url);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { hostname: server.hostname, port: server.port, path: target, method, ca: c.emulator.caPem, headers: { Authorization: `Bearer ${c.emulator.token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, status: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
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

describe('JSON patch paths that name the prototype', () => {
  const notApplicable = { code: 422, reason: 'Invalid', message: 'the server rejected our request due to an error in our request' };

  it('answers 422 for a path through __proto__, constructor or an inherited member, and changes nothing in the process or the object', async () => {
    const before = await c.core.createNamespacedSecret({ namespace: 'bad-patch', body: { metadata: { name: 'proto', labels: { a: '1' } }, data: { k: 'djE=' } } });
    const toLocaleString = Object.getOwnPropertyDescriptor(Object.prototype, 'toLocaleString');
    try {
      for (const body of [
        [{ op: 'add', path: '/__proto__/polluted', value: 'yes' }],
        [{ op: 'add', path: '/metadata/__proto__/polluted', value: 'yes' }],
        [{ op: 'add', path: '/metadata/__proto__', value: { polluted: 'yes' } }],
        [{ op: 'replace', path: '/constructor/prototype/polluted', value: 'yes' }],
        [{ op: 'remove', path: '/__proto__/toLocaleString' }],
        // Inherited members are not there either: replace needs the label, copy and move their source.
        [{ op: 'replace', path: '/metadata/labels/hasOwnProperty', value: 'x' }],
        [{ op: 'copy', from: '/metadata/constructor', path: '/metadata/labels/b' }],
        [{ op: 'move', from: '/metadata/toString', path: '/metadata/labels/b' }],
        [{ op: 'test', path: '/data/__proto__', value: {} }],
      ]) {
        const refused = await send('/api/v1/namespaces/bad-patch/secrets/proto', 'PATCH', body, 'application/json-patch+json');
        expect({ body, code: refused.code }).toEqual({ body, code: 422 });
        expect(refused.status).toMatchObject(notApplicable);
      }
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      expect(Object.hasOwn(Object.prototype, 'toLocaleString')).toBe(true);
    } finally {
      // Without the guard these patches changed every object of the test process: undo that.
      delete (Object.prototype as Record<string, unknown>)['polluted'];
      if (toLocaleString !== undefined) Object.defineProperty(Object.prototype, 'toLocaleString', toLocaleString);
    }
    const after = await c.core.readNamespacedSecret({ name: 'proto', namespace: 'bad-patch' });
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(after.metadata?.labels).toEqual({ a: '1' });
  });

  it('keeps merge and strategic merge patches naming __proto__ away from the process', async () => {
    await c.core.createNamespacedSecret({ namespace: 'bad-patch', body: { metadata: { name: 'proto-merge' } } });
    const body: unknown = JSON.parse('{"__proto__":{"polluted":"yes"},"metadata":{"__proto__":{"polluted":"yes"},"labels":{"__proto__":{"polluted":"yes"}}}}');
    try {
      for (const contentType of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
        const res = await send('/api/v1/namespaces/bad-patch/secrets/proto-merge', 'PATCH', body, contentType);
        expect(res.code).toBeLessThan(500);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      }
    } finally {
      delete (Object.prototype as Record<string, unknown>)['polluted'];
    }
  });
});

describe('dot segments and odd request targets', () => {
  it("refuses '.' and '..' as a name, escaped or not, with 400 BadRequest, and deletes nothing", async () => {
    await c.core.createNamespace({ body: { metadata: { name: 'dots' } } });
    await c.core.createNamespacedSecret({ namespace: 'dots', body: { metadata: { name: 's' } } });
    for (const [segment, name] of [
      ['..', '..'],
      ['%2e%2e', '..'],
      ['%2E.', '..'],
      ['.', '.'],
      ['%2e', '.'],
    ] as const) {
      // `secrets/..` resolved to the namespace itself, and `secrets/.` to the whole collection.
      const refused = await sendTarget(`/api/v1/namespaces/dots/secrets/${segment}`, 'DELETE');
      expect(refused).toMatchObject({ code: 400, status: { reason: 'BadRequest', message: `Name parameter invalid: "${name}": may not be '${name}'` } });
    }
    expect(c.emulator.get('v1', 'Namespace', undefined, 'dots')?.metadata.deletionTimestamp).toBeUndefined();
    expect(c.emulator.get('v1', 'Secret', 'dots', 's')).toBeDefined();
  });

  it("refuses a name holding '%' with 400, and still serves ordinary names, %2F names, queries and discovery as before", async () => {
    await c.core.createNamespace({ body: { metadata: { name: 'names' } } });
    await c.core.createNamespacedSecret({ namespace: 'names', body: { metadata: { name: 'plain', labels: { tier: 'x' } } } });
    expect(await sendTarget('/api/v1/namespaces/names/secrets/a%25b')).toMatchObject({ code: 400, status: { reason: 'BadRequest', message: `Name parameter invalid: "a%b": may not contain '%'` } });
    expect(await sendTarget('/api/v1/namespaces/names/secrets/a%2Fb')).toMatchObject({ code: 404, status: { reason: 'NotFound', message: 'secrets "a/b" not found' } });
    expect(await sendTarget('/api/v1/namespaces/names/secrets/plain?pretty=true')).toMatchObject({ code: 200, status: { metadata: { name: 'plain' } } });
    const listed = await sendTarget('/api/v1/namespaces/names/secrets?labelSelector=tier%3Dx');
    expect((listed.status['items'] as unknown[]).length).toBe(1);
    expect(await sendTarget('/api/v1?x=1')).toMatchObject({ code: 200, status: { kind: 'APIResourceList' } });
  });

  it('answers a target that is no URL to node but a path to Go with a 404 Status, and a broken absolute URL with 400', async () => {
    // Go's request parser reads `//[` as a path (url.ParseRequestURI), so a real API server finds nothing there.
    expect(await sendTarget('//[')).toMatchObject({ code: 404, status: { kind: 'Status', reason: 'NotFound' } });
    expect(await sendTarget('http://[::1/api')).toMatchObject({ code: 400, status: { kind: 'Status', reason: 'BadRequest' } });
    // An absolute-form target that parses is served by its path, as before.
    expect(await sendTarget(`${c.emulator.url}/api/v1/namespaces/default/secrets`)).toMatchObject({ code: 200, status: { kind: 'SecretList' } });
  });
});

describe('deeply nested bodies', () => {
  /** A Pod whose single env entry carries `depth` levels of arrays, nested 6 levels into the object. */
  const deepPod = (name: string, depth: number): string =>
    `{"metadata":{"name":"${name}"},"spec":{"containers":[{"name":"c","image":"i","env":[{"name":"e","value":"v","x":${'['.repeat(depth)}${']'.repeat(depth)}}]}]}}`;
  const tooDeep = { code: 400, status: { reason: 'BadRequest', message: 'the request body could not be decoded: json: exceeded max depth of 1000' } };

  it('answers 400 to a body nested past 1,000 levels in a create or any patch, instead of overflowing the stack', async () => {
    await c.core.createNamespace({ body: { metadata: { name: 'deep' } } });
    const create = await rawRequest(c.emulator, '/api/v1/namespaces/deep/pods', { method: 'POST', token: c.emulator.token, body: deepPod('p', 2000), contentType: 'application/json' });
    expect({ code: create.code, status: JSON.parse(create.body) as unknown }).toMatchObject(tooDeep);

    await c.core.createNamespacedSecret({ namespace: 'deep', body: { metadata: { name: 's' } } });
    const deepValue = '{"a":'.repeat(2000) + '1' + '}'.repeat(2000);
    for (const [contentType, body] of [
      ['application/merge-patch+json', `{"metadata":{"annotations":${deepValue}}}`],
      ['application/strategic-merge-patch+json', `{"metadata":{"annotations":${deepValue}}}`],
      ['application/json-patch+json', `[{"op":"test","path":"/metadata","value":${deepValue}}]`],
    ]) {
      const res = await rawRequest(c.emulator, '/api/v1/namespaces/deep/secrets/s', { method: 'PATCH', token: c.emulator.token, body, contentType });
      expect({ contentType, code: res.code, status: JSON.parse(res.body) as unknown }).toMatchObject({ contentType, ...tooDeep });
    }
  });

  it('takes a body nested 1,000 levels, and refuses with 422 a JSON patch that would nest the object deeper', async () => {
    const created = await rawRequest(c.emulator, '/api/v1/namespaces/deep/pods', { method: 'POST', token: c.emulator.token, body: deepPod('at-limit', 994), contentType: 'application/json' });
    expect(created.code).toBe(201);
    // Copying the deep value into its own innermost array nests the Pod about 2,000 levels deep.
    const inner = `/spec/containers/0/env/0/x${'/0'.repeat(993)}/-`;
    const res = await send('/api/v1/namespaces/deep/pods/at-limit', 'PATCH', [{ op: 'copy', from: '/spec/containers/0/env/0/x', path: inner }], 'application/json-patch+json');
    expect(res).toMatchObject({ code: 422, status: { reason: 'Invalid', message: 'the server rejected our request due to an error in our request' } });
    expect((await sendTarget('/api/v1/namespaces/deep/pods/at-limit')).code).toBe(200);
  });
});

describe('malformed list options', () => {
  it.each([
    ['limit=abc', 'strconv.ParseInt: parsing "abc": invalid syntax'],
    ['limit=1.5', 'strconv.ParseInt: parsing "1.5": invalid syntax'],
    ['limit=99999999999999999999', 'strconv.ParseInt: parsing "99999999999999999999": value out of range'],
    ['watch=true&timeoutSeconds=abc', 'strconv.ParseInt: parsing "abc": invalid syntax'],
  ])('answers ?%s with 400 BadRequest in the API server\'s words', async (query, message) => {
    const res = await sendTarget(`/api/v1/namespaces/wide-a/secrets?${query}`);
    expect(res).toMatchObject({ code: 400, status: { kind: 'Status', reason: 'BadRequest', message } });
  });

  it('lists everything for a negative limit, as the API server does', async () => {
    await c.core.createNamespace({ body: { metadata: { name: 'limits' } } });
    for (const name of ['a', 'b']) await c.core.createNamespacedSecret({ namespace: 'limits', body: { metadata: { name } } });
    const res = await sendTarget('/api/v1/namespaces/limits/secrets?limit=-1');
    expect(res.code).toBe(200);
    expect((res.status['items'] as unknown[]).length).toBe(2);
    expect(res.status['metadata']).not.toHaveProperty('continue');
  });
});
