/**
 * The emulator through the real @kubernetes/client-node: CRUD of every served resource, the error
 * Status objects clients branch on, selectors, resourceVersion conflicts and authentication.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSI_GROUP, failure, rawRequest, startWithClients } from './helpers.js';
import type { Clients } from './helpers.js';

const container = { name: 'c', image: 'x' };

let c: Clients;
beforeAll(async () => {
  c = await startWithClients({}, ['team-a', 'paged', 'sel', 'typed']);
});
afterAll(async () => {
  await c.emulator.stop();
});

describe('core/v1 resources', () => {
  it('creates, reads, updates, patches and deletes a Secret', async () => {
    const created = await c.core.createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 'db', labels: { app: 'web' } }, stringData: { password: 'hunter2' } },
    });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(created.data).toEqual({ password: Buffer.from('hunter2').toString('base64') });
    expect(created.type).toBe('Opaque');

    const read = await c.core.readNamespacedSecret({ name: 'db', namespace: 'default' });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);

    read.data = { password: Buffer.from('s3cret').toString('base64') };
    const updated = await c.core.replaceNamespacedSecret({ name: 'db', namespace: 'default', body: read });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));

    const patched = await c.core.patchNamespacedSecret(
      { name: 'db', namespace: 'default', body: { metadata: { annotations: { rotated: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.metadata?.annotations).toEqual({ rotated: 'yes' });
    expect(patched.data?.['password']).toBe(Buffer.from('s3cret').toString('base64'));

    const jsonPatched = await c.core.patchNamespacedSecret(
      { name: 'db', namespace: 'default', body: [{ op: 'add', path: '/metadata/labels/tier', value: 'db' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.metadata?.labels).toEqual({ app: 'web', tier: 'db' });

    await c.core.deleteNamespacedSecret({ name: 'db', namespace: 'default' });
    const gone = await failure(c.core.readNamespacedSecret({ name: 'db', namespace: 'default' }));
    expect(gone.code).toBe(404);
  });

  it('answers 409 AlreadyExists on a second create and 404 NotFound as a Status', async () => {
    await c.core.createNamespacedServiceAccount({ namespace: 'team-a', body: { metadata: { name: 'app' } } });
    const dup = await failure(c.core.createNamespacedServiceAccount({ namespace: 'team-a', body: { metadata: { name: 'app' } } }));
    expect(dup.code).toBe(409);
    expect(dup.status).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', code: 409, message: 'serviceaccounts "app" already exists' });

    const missing = await failure(c.core.readNamespacedServiceAccount({ name: 'nobody', namespace: 'team-a' }));
    expect(missing.status).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'serviceaccounts "nobody" not found',
      details: { name: 'nobody', kind: 'serviceaccounts' },
    });
  });

  it('refuses a create into a missing namespace with 404, and gives a created namespace a default service account', async () => {
    const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    const refused = await failure(c.core.createNamespacedPod({ namespace: 'new-ns', body: pod }));
    expect(refused.status).toMatchObject({ reason: 'NotFound', code: 404, message: 'namespaces "new-ns" not found', details: { name: 'new-ns', kind: 'namespaces' } });
    await expect(c.core.listNamespacedPod({ namespace: 'new-ns' })).resolves.toMatchObject({ items: [] });

    await c.core.createNamespace({ body: { metadata: { name: 'new-ns' } } });
    await c.core.createNamespacedPod({ namespace: 'new-ns', body: pod });
    const ns = await c.core.readNamespace({ name: 'new-ns' });
    expect(ns.status?.phase).toBe('Active');
    const sas = await c.core.listNamespacedServiceAccount({ namespace: 'new-ns' });
    expect(sas.items.map((s) => s.metadata?.name)).toEqual(['default']);
    const all = await c.core.listNamespace();
    expect(all.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system', 'new-ns']));
  });

  it('makes the namespace of a seeded object (apply), as applying a chart with its namespace would', () => {
    c.emulator.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'seeded-ns' }, data: {} });
    expect(c.emulator.get('v1', 'Namespace', undefined, 'seeded-ns')?.metadata.name).toBe('seeded-ns');
  });

  it('keeps the uid a seeded object is given, so Events and owner references can name it; an HTTP create assigns its own', async () => {
    const uid = '0000000a-5eed-4000-8000-000000000001';
    const seeded = c.emulator.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'seeded-pod', namespace: 'default', uid }, spec: { containers: [container] } });
    expect(seeded.metadata.uid).toBe(uid);
    expect((await c.core.readNamespacedPod({ name: 'seeded-pod', namespace: 'default' })).metadata?.uid).toBe(uid);
    // Replacing it keeps it; owner references by that uid garbage-collect as on a cluster.
    expect(c.emulator.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'seeded-pod', namespace: 'default', labels: { v: '2' } }, spec: { containers: [container] } }).metadata.uid).toBe(uid);
    c.emulator.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'owned', namespace: 'default', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'seeded-pod', uid }] } });
    c.emulator.delete('v1', 'Pod', 'default', 'seeded-pod');
    expect(c.emulator.get('v1', 'Secret', 'default', 'owned')).toBeUndefined();

    const viaHttp = await c.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'client-uid', uid } } });
    expect(viaHttp.metadata?.uid).not.toBe(uid);
  });

  it('labels every namespace with kubernetes.io/metadata.name, whatever the client writes there', async () => {
    const created = await c.core.createNamespace({ body: { metadata: { name: 'labelled', labels: { team: 'a', 'kubernetes.io/metadata.name': 'other' } } } });
    expect(created.metadata?.labels).toEqual({ team: 'a', 'kubernetes.io/metadata.name': 'labelled' });
    const patched = await c.core.patchNamespace(
      { name: 'labelled', body: { metadata: { labels: { 'kubernetes.io/metadata.name': null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.metadata?.labels?.['kubernetes.io/metadata.name']).toBe('labelled');
    const selected = await c.core.listNamespace({ labelSelector: 'kubernetes.io/metadata.name in (default,kube-system)' });
    expect(selected.items.map((n) => n.metadata?.name)).toEqual(['default', 'kube-system']);
  });

  it('serves nodes (cluster scoped) and events', async () => {
    await c.core.createNode({ body: { metadata: { name: 'node-1', labels: { zone: 'a' } } } });
    expect((await c.core.readNode({ name: 'node-1' })).metadata?.labels).toEqual({ zone: 'a' });
    await c.core.createNamespacedEvent({
      namespace: 'default',
      body: {
        metadata: { name: 'p.1' },
        involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' },
        reason: 'FailedMount',
        message: 'boom',
        type: 'Warning',
      },
    });
    const events = await c.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=p,type=Warning' });
    expect(events.items.map((e) => e.reason)).toEqual(['FailedMount']);
    await c.core.deleteNode({ name: 'node-1' });
    expect((await failure(c.core.readNode({ name: 'node-1' }))).code).toBe(404);
  });

  it('rejects an update with a stale resourceVersion with 409 Conflict', async () => {
    const sa = await c.core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'racy' } } });
    const first = { ...sa, metadata: { ...sa.metadata, labels: { n: '1' } } };
    await c.core.replaceNamespacedServiceAccount({ name: 'racy', namespace: 'default', body: first });
    const stale = { ...sa, metadata: { ...sa.metadata, labels: { n: '2' } } };
    const conflict = await failure(c.core.replaceNamespacedServiceAccount({ name: 'racy', namespace: 'default', body: stale }));
    expect(conflict.code).toBe(409);
    expect(conflict.status).toMatchObject({ reason: 'Conflict' });
    expect(String(conflict.status['message'])).toContain('the object has been modified');
  });

  it('keeps the resourceVersion when an update changes nothing', async () => {
    const sa = await c.core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'same' } } });
    const again = await c.core.replaceNamespacedServiceAccount({ name: 'same', namespace: 'default', body: sa });
    expect(again.metadata?.resourceVersion).toBe(sa.metadata?.resourceVersion);
  });

  it('filters lists by label selector and by field selectors, including pods by spec.nodeName', async () => {
    const pod = (name: string, node: string, labels: Record<string, string>) =>
      c.core.createNamespacedPod({ namespace: 'sel', body: { metadata: { name, labels }, spec: { nodeName: node, containers: [{ name: 'c', image: 'x' }] } } });
    await pod('a', 'node-1', { app: 'web', tier: 'front' });
    await pod('b', 'node-2', { app: 'web' });
    await pod('c', 'node-1', { app: 'db' });
    const names = (l: { items: { metadata?: { name?: string } }[] }) => l.items.map((p) => p.metadata?.name);

    expect(names(await c.core.listNamespacedPod({ namespace: 'sel', labelSelector: 'app=web' }))).toEqual(['a', 'b']);
    expect(names(await c.core.listNamespacedPod({ namespace: 'sel', labelSelector: 'app in (web,db),!tier' }))).toEqual(['b', 'c']);
    expect(names(await c.core.listNamespacedPod({ namespace: 'sel', labelSelector: 'app!=web' }))).toEqual(['c']);
    expect(names(await c.core.listNamespacedPod({ namespace: 'sel', fieldSelector: 'spec.nodeName=node-1' }))).toEqual(['a', 'c']);
    expect(names(await c.core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=node-1,metadata.name=c' }))).toEqual(['c']);
    expect(names(await c.core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace=sel', labelSelector: 'tier' }))).toEqual(['a']);
    const bad = await failure(c.core.listNamespacedPod({ namespace: 'sel', labelSelector: 'a b c' }));
    expect(bad.code).toBe(400);
  });

  it('selects pods and nodes by the values the API server defaults: Pending phase, Always restart, hostNetwork and unschedulable false', async () => {
    const created = await c.core.createNamespacedPod({ namespace: 'sel', body: { metadata: { name: 'fresh' }, spec: { nodeName: 'node-9', containers: [container] } } });
    expect(created.status?.phase).toBe('Pending');
    await c.core.createNamespacedPod({ namespace: 'sel', body: { metadata: { name: 'host' }, spec: { nodeName: 'node-9', hostNetwork: true, containers: [container] } } });
    const onNode = (selector: string) => c.core.listNamespacedPod({ namespace: 'sel', fieldSelector: `spec.nodeName=node-9,${selector}` });
    const names = (l: { items: { metadata?: { name?: string } }[] }) => l.items.map((p) => p.metadata?.name);
    expect(names(await onNode('status.phase=Pending'))).toEqual(['fresh', 'host']);
    expect(names(await onNode('spec.hostNetwork=false'))).toEqual(['fresh']);
    expect(names(await onNode('spec.hostNetwork!=true'))).toEqual(['fresh']);
    expect(names(await onNode('spec.restartPolicy=Always,spec.schedulerName=default-scheduler'))).toEqual(['fresh', 'host']);

    await c.core.createNode({ body: { metadata: { name: 'schedulable-node' } } });
    await c.core.createNode({ body: { metadata: { name: 'cordoned-node' }, spec: { unschedulable: true } } });
    expect(names(await c.core.listNode({ fieldSelector: 'spec.unschedulable=false,metadata.name=schedulable-node' }))).toEqual(['schedulable-node']);
    expect(names(await c.core.listNode({ fieldSelector: 'spec.unschedulable=true' }))).toEqual(['cordoned-node']);
  });

  it('refuses a field selector on a label the type does not support, as the API server does', async () => {
    const unsupported = await failure(c.core.listNamespacedPod({ namespace: 'sel', fieldSelector: 'spec.containers=x' }));
    expect(unsupported.status).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'field label not supported: spec.containers', reason: 'BadRequest', code: 400 });
    const onCustom = await failure(
      c.custom.listNamespacedCustomObject({ group: CSI_GROUP, version: 'v1', namespace: 'default', plural: 'secretproviderclasspodstatuses', fieldSelector: 'status.podName=web' }),
    );
    expect(onCustom.status).toMatchObject({ code: 400, message: 'field label not supported: status.podName' });
    // What the types' registries do support still filters.
    await c.core.createNamespacedSecret({ namespace: 'typed', body: { metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } } });
    await c.core.createNamespacedSecret({ namespace: 'typed', body: { metadata: { name: 'plain' } } });
    const tls = await c.core.listNamespacedSecret({ namespace: 'typed', fieldSelector: 'type=kubernetes.io/tls' });
    expect(tls.items.map((s) => s.metadata?.name)).toEqual(['tls']);
  });

  it('pages a list with limit and continue', async () => {
    for (const n of ['p1', 'p2', 'p3']) await c.core.createNamespacedSecret({ namespace: 'paged', body: { metadata: { name: n } } });
    const first = await c.core.listNamespacedSecret({ namespace: 'paged', limit: 2 });
    expect(first.items.map((s) => s.metadata?.name)).toEqual(['p1', 'p2']);
    const rest = await c.core.listNamespacedSecret({ namespace: 'paged', limit: 2, _continue: first.metadata?._continue ?? '' });
    expect(rest.items.map((s) => s.metadata?.name)).toEqual(['p3']);
    expect(rest.metadata?._continue).toBeUndefined();
  });

  it('continues after the last item returned, so deletions between pages skip nothing', async () => {
    for (const n of ['q1', 'q2', 'q3', 'q4', 'q5']) await c.core.createNamespacedSecret({ namespace: 'paged', body: { metadata: { name: n, labels: { page: 'q' } } } });
    const first = await c.core.listNamespacedSecret({ namespace: 'paged', labelSelector: 'page=q', limit: 2 });
    expect(first.items.map((s) => s.metadata?.name)).toEqual(['q1', 'q2']);
    expect(first.metadata?.remainingItemCount).toBe(3);
    await c.core.deleteNamespacedSecret({ name: 'q1', namespace: 'paged' });
    const second = await c.core.listNamespacedSecret({ namespace: 'paged', labelSelector: 'page=q', limit: 2, _continue: first.metadata?._continue ?? '' });
    expect(second.items.map((s) => s.metadata?.name)).toEqual(['q3', 'q4']);
  });

  it('refuses a continue token it did not issue with 400 BadRequest', async () => {
    for (const token of ['2', 'not a token', Buffer.from('{"v":"other"}').toString('base64url')]) {
      const refused = await failure(c.core.listNamespacedSecret({ namespace: 'paged', limit: 2, _continue: token }));
      expect(refused.status).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest', message: expect.stringContaining('invalid continue token') });
    }
  });
});

describe('secrets-store.csi.x-k8s.io/v1 resources', () => {
  const spc = {
    apiVersion: `${CSI_GROUP}/v1`,
    kind: 'SecretProviderClass',
    metadata: { name: 'aws-secrets' },
    spec: { provider: 'aws', parameters: { objects: '- objectName: MySecret\n  objectType: secretsmanager\n' } },
  };

  it('creates, reads, lists, merges and deletes SecretProviderClasses', async () => {
    const params = { group: CSI_GROUP, version: 'v1', namespace: 'default', plural: 'secretproviderclasses' };
    const created = (await c.custom.createNamespacedCustomObject({ ...params, body: spc })) as { metadata: { generation: number } };
    expect(created.metadata.generation).toBe(1);
    const dup = await failure(c.custom.createNamespacedCustomObject({ ...params, body: spc }));
    expect(dup.status).toMatchObject({ reason: 'AlreadyExists', message: `secretproviderclasses.${CSI_GROUP} "aws-secrets" already exists` });

    const patched = (await c.custom.patchNamespacedCustomObject(
      { ...params, name: 'aws-secrets', body: { spec: { parameters: { region: 'eu-west-1' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as { metadata: { generation: number }; spec: { parameters: Record<string, string> } };
    expect(patched.spec.parameters['region']).toBe('eu-west-1');
    expect(patched.spec.parameters['objects']).toContain('MySecret');
    expect(patched.metadata.generation).toBe(2);

    const listed = (await c.custom.listNamespacedCustomObject(params)) as { kind: string; items: unknown[] };
    expect(listed.kind).toBe('SecretProviderClassList');
    expect(listed.items).toHaveLength(1);

    await c.custom.deleteNamespacedCustomObject({ ...params, name: 'aws-secrets' });
    const missing = await failure(c.custom.getNamespacedCustomObject({ ...params, name: 'aws-secrets' }));
    expect(missing.status).toMatchObject({
      reason: 'NotFound',
      message: `secretproviderclasses.${CSI_GROUP} "aws-secrets" not found`,
      details: { name: 'aws-secrets', group: CSI_GROUP, kind: 'secretproviderclasses' },
    });
  });

  it('refuses a strategic merge patch of a custom resource with 415, listing the types it takes', async () => {
    const params = { group: CSI_GROUP, version: 'v1', namespace: 'default', plural: 'secretproviderclasses' };
    await c.custom.createNamespacedCustomObject({ ...params, body: { ...spc, metadata: { name: 'smp' } } });
    const refused = await failure(
      c.custom.patchNamespacedCustomObject({ ...params, name: 'smp', body: { spec: { provider: 'vault' } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)),
    );
    expect(refused.status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
      reason: 'UnsupportedMediaType',
      code: 415,
    });
    const unchanged = (await c.custom.getNamespacedCustomObject({ ...params, name: 'smp' })) as { spec: { provider: string } };
    expect(unchanged.spec.provider).toBe('aws');
  });

  it('does the driver write protocol on SecretProviderClassPodStatus: create, 409, get, full update', async () => {
    const params = { group: CSI_GROUP, version: 'v1', namespace: 'default', plural: 'secretproviderclasspodstatuses' };
    const body = {
      apiVersion: `${CSI_GROUP}/v1`,
      kind: 'SecretProviderClassPodStatus',
      metadata: { name: 'web-default-aws-secrets', labels: { 'internal.secrets-store.csi.k8s.io/node-name': 'node-1' } },
      status: { podName: 'web', secretProviderClassName: 'aws-secrets', mounted: true, targetPath: '/t', objects: [{ id: 'a', version: '1' }] },
    };
    await c.custom.createNamespacedCustomObject({ ...params, body });
    expect((await failure(c.custom.createNamespacedCustomObject({ ...params, body }))).code).toBe(409);
    const current = (await c.custom.getNamespacedCustomObject({ ...params, name: body.metadata.name })) as typeof body & { metadata: { resourceVersion: string } };
    current.status.objects = [{ id: 'a', version: '2' }];
    const updated = (await c.custom.replaceNamespacedCustomObject({ ...params, name: body.metadata.name, body: current })) as typeof body;
    expect(updated.status.objects).toEqual([{ id: 'a', version: '2' }]);
    // A PUT without resourceVersion is refused for custom resources (built-in types allow it).
    const { resourceVersion: _rv, ...unversioned } = (current as { metadata: Record<string, unknown> }).metadata;
    const blind = await failure(c.custom.replaceNamespacedCustomObject({ ...params, name: body.metadata.name, body: { ...current, metadata: unversioned } }));
    expect(blind.status).toMatchObject({
      code: 422,
      reason: 'Invalid',
      message: `secretproviderclasspodstatuses.${CSI_GROUP} "web-default-aws-secrets" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`,
    });
    const byNode = (await c.custom.listNamespacedCustomObject({
      ...params,
      labelSelector: 'internal.secrets-store.csi.k8s.io/node-name=node-1',
    })) as { items: unknown[] };
    expect(byNode.items).toHaveLength(1);
  });

  it('works with KubernetesObjectApi, which finds resources through discovery', async () => {
    const obj = { ...spc, metadata: { name: 'via-object-api', namespace: 'default' } };
    await c.objects.create(obj);
    const read = await c.objects.read({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: 'via-object-api', namespace: 'default' } });
    expect(read.metadata?.uid).toBeDefined();
    const applied = await c.objects.patch(
      { ...obj, spec: { ...obj.spec, parameters: { ...obj.spec.parameters, region: 'us-east-2' } } },
      undefined,
      undefined,
      'test-manager',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect((applied as unknown as { spec: { parameters: Record<string, string> } }).spec.parameters['region']).toBe('us-east-2');
    await c.objects.delete({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: 'via-object-api', namespace: 'default' } });
    expect(c.emulator.get(obj.apiVersion, obj.kind, 'default', 'via-object-api')).toBeUndefined();
  });
});

describe('authentication and outages', () => {
  it('answers 401 without the kubeconfig bearer token, and serves OIDC discovery without one', async () => {
    for (const token of [undefined, 'wrong-token']) {
      const denied = await rawRequest(c.emulator, '/api/v1/namespaces', token === undefined ? {} : { token });
      expect(denied.code).toBe(401);
      expect(JSON.parse(denied.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    }
    const allowed = await rawRequest(c.emulator, '/api/v1/namespaces', { token: c.emulator.token });
    expect(allowed.code).toBe(200);
    const oidc = await rawRequest(c.emulator, '/.well-known/openid-configuration');
    expect(JSON.parse(oidc.body)).toMatchObject({ issuer: c.emulator.issuer, jwks_uri: `${c.emulator.issuer}/openid/v1/jwks` });
  });

  it('fails every request with 503 while paused and recovers on resume', async () => {
    c.emulator.pause();
    try {
      expect((await failure(c.core.listNamespace())).code).toBe(503);
    } finally {
      c.emulator.resume();
    }
    expect((await c.core.listNamespace()).items.length).toBeGreaterThan(0);
  });
});
