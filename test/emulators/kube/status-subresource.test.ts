/**
 * The `status` subresource through client-node: it exists only where a real cluster has it (pods,
 * nodes, namespaces; not Secrets or the CSI CRDs, which declare none), takes get/update/patch only,
 * and splits writes: `/status` changes only status, the main resource never changes status.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSI_GROUP, failure, rawRequest, startWithClients } from './helpers.js';
import type { Clients } from './helpers.js';

const NS = 'status';
let c: Clients;
beforeAll(async () => {
  c = await startWithClients({}, [NS]);
});
afterAll(async () => {
  await c.emulator.stop();
});

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const container = { name: 'c', image: 'x' };

describe('status subresource', () => {
  it('changes only status through /status: spec and labels stay, a stale resourceVersion is still a 409', async () => {
    const pod = await c.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'web', labels: { app: 'web' } }, spec: { nodeName: 'n1', containers: [container] } } });
    const written = await c.core.replaceNamespacedPodStatus({
      name: 'web',
      namespace: NS,
      body: { ...pod, metadata: { ...pod.metadata, labels: { app: 'changed' } }, spec: { nodeName: 'n2', containers: [container] }, status: { phase: 'Running', podIP: '10.0.0.7' } },
    });
    expect(written.status?.phase).toBe('Running');
    expect(written.spec?.nodeName).toBe('n1');
    expect(written.metadata?.labels).toEqual({ app: 'web' });
    // Pods carry no generation before 1.33 (the pod strategy never sets one).
    expect(written.metadata?.generation).toBeUndefined();

    const patched = await c.core.patchNamespacedPodStatus({ name: 'web', namespace: NS, body: { spec: { nodeName: 'n3' }, status: { phase: 'Succeeded' } } }, merge);
    expect(patched.status?.phase).toBe('Succeeded');
    expect(patched.spec?.nodeName).toBe('n1');

    const stale = await failure(c.core.replaceNamespacedPodStatus({ name: 'web', namespace: NS, body: { ...pod, status: { phase: 'Failed' } } }));
    expect(stale.status).toMatchObject({ code: 409, reason: 'Conflict' });
  });

  it('ignores status changes written through the main resource of a kind that has the subresource', async () => {
    const node = await c.core.createNode({ body: { metadata: { name: 'status-node' }, status: { phase: 'Running' } } });
    const replaced = await c.core.replaceNode({ name: 'status-node', body: { ...node, spec: { unschedulable: true }, status: { phase: 'Terminated' } } });
    expect(replaced.spec?.unschedulable).toBe(true);
    expect(replaced.status?.phase).toBe('Running');
    const patched = await c.core.patchNamespace({ name: NS, body: { metadata: { labels: { team: 'a' } }, status: { phase: 'Terminating' } } }, merge);
    expect(patched.metadata?.labels?.['team']).toBe('a');
    expect(patched.status?.phase).toBe('Active');
  });

  it('keeps writing status through the main resource of a CSI type, whose CRD has no status subresource', async () => {
    const params = { group: CSI_GROUP, version: 'v1', namespace: NS, plural: 'secretproviderclasspodstatuses' };
    await c.custom.createNamespacedCustomObject({ ...params, body: { apiVersion: `${CSI_GROUP}/v1`, kind: 'SecretProviderClassPodStatus', metadata: { name: 's' }, status: { mounted: false } } });
    const patched = (await c.custom.patchNamespacedCustomObject({ ...params, name: 's', body: { status: { mounted: true } } }, merge)) as { status: { mounted: boolean } };
    expect(patched.status.mounted).toBe(true);
    const viaStatus = await rawRequest(c.emulator, `/apis/${CSI_GROUP}/v1/namespaces/${NS}/secretproviderclasspodstatuses/s/status`, { token: c.emulator.token });
    expect(viaStatus.code).toBe(404);
  });

  it('lists the status subresource in discovery for exactly the kinds that have it', async () => {
    const core = JSON.parse((await rawRequest(c.emulator, '/api/v1', { token: c.emulator.token })).body) as { resources: { name: string; verbs: string[] }[] };
    const subresources = core.resources.filter((r) => r.name.endsWith('/status'));
    expect(subresources.map((r) => r.name)).toEqual(['namespaces/status', 'nodes/status', 'pods/status']);
    expect(subresources[0]?.verbs).toEqual(['get', 'patch', 'update']);
    const csi = JSON.parse((await rawRequest(c.emulator, `/apis/${CSI_GROUP}/v1`, { token: c.emulator.token })).body) as { resources: { name: string }[] };
    expect(csi.resources.map((r) => r.name)).toEqual(['secretproviderclasses', 'secretproviderclasspodstatuses']);
  });

  it.each([
    ['POST', `/api/v1/namespaces/${NS}/pods/web/status`, 405],
    ['DELETE', `/api/v1/namespaces/${NS}/pods/web/status`, 405],
    ['GET', `/api/v1/namespaces/${NS}/secrets/any/status`, 404],
    ['GET', `/api/v1/namespaces/${NS}/serviceaccounts/default/status`, 404],
  ])('answers %s %s with %i', async (method, path, code) => {
    const res = await rawRequest(c.emulator, path, { method, token: c.emulator.token, ...(method === 'POST' ? { body: '{}', contentType: 'application/json' } : {}) });
    expect(res.code).toBe(code);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', code });
    expect(c.emulator.get('v1', 'Pod', NS, 'web')).toBeDefined();
  });
});
