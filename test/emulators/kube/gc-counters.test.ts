/**
 * Garbage collection by ownerReferences and the per-verb request counters, through client-node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSI_GROUP, eventually, startWithClients } from './helpers.js';
import type { Clients } from './helpers.js';

let c: Clients;
beforeAll(async () => {
  c = await startWithClients({}, ['gc', 'gc2', 'doomed', 'cnt']);
});
afterAll(async () => {
  await c.emulator.stop();
});

async function pod(namespace: string, name: string): Promise<{ apiVersion: string; kind: string; name: string; uid: string }> {
  const p = await c.core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
  return { apiVersion: 'v1', kind: 'Pod', name, uid: p.metadata?.uid ?? '' };
}

describe('garbage collection', () => {
  it('deletes a Secret once every owner pod is gone, not while one remains', async () => {
    const a = await pod('gc', 'a');
    const b = await pod('gc', 'b');
    await c.core.createNamespacedSecret({ namespace: 'gc', body: { metadata: { name: 'synced', ownerReferences: [a, b] } } });

    await c.core.deleteNamespacedPod({ name: 'a', namespace: 'gc' });
    expect((await c.core.readNamespacedSecret({ name: 'synced', namespace: 'gc' })).metadata?.name).toBe('synced');

    await c.core.deleteNamespacedPod({ name: 'b', namespace: 'gc' });
    await eventually(async () => ((await c.core.listNamespacedSecret({ namespace: 'gc' })).items.length === 0 ? true : undefined), 'GC of the Secret');
  });

  it("removes a pod's SecretProviderClassPodStatus with the pod, and keeps it with Orphan propagation", async () => {
    const params = { group: CSI_GROUP, version: 'v1', namespace: 'gc2', plural: 'secretproviderclasspodstatuses' };
    const status = (name: string, owner: { uid: string }) =>
      c.custom.createNamespacedCustomObject({
        ...params,
        body: { apiVersion: `${CSI_GROUP}/v1`, kind: 'SecretProviderClassPodStatus', metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name, uid: owner.uid }] }, status: { podName: name } },
      });
    await status('web', await pod('gc2', 'web'));
    await status('kept', await pod('gc2', 'kept'));

    await c.core.deleteNamespacedPod({ name: 'web', namespace: 'gc2' });
    await c.core.deleteNamespacedPod({ name: 'kept', namespace: 'gc2', propagationPolicy: 'Orphan' });
    const remaining = await eventually(async () => {
      const items = ((await c.custom.listNamespacedCustomObject(params)) as { items: { metadata: { name: string; ownerReferences?: unknown[] } }[] }).items;
      return items.length === 1 ? items : undefined;
    }, 'GC of the SPCPS');
    expect(remaining[0]?.metadata.name).toBe('kept');
    expect(remaining[0]?.metadata.ownerReferences ?? []).toEqual([]);
  });

  it('deletes the contents of a deleted namespace', async () => {
    await c.core.createNamespacedSecret({ namespace: 'doomed', body: { metadata: { name: 's' } } });
    await c.core.deleteNamespace({ name: 'doomed' });
    expect(c.emulator.list('v1', 'Secret', 'doomed')).toEqual([]);
    expect(c.emulator.get('v1', 'Namespace', undefined, 'doomed')).toBeUndefined();
  });
});

describe('request counters', () => {
  it('counts requests by verb and resource', async () => {
    c.emulator.apply({ apiVersion: `${CSI_GROUP}/v1`, kind: 'SecretProviderClass', metadata: { name: 'counted', namespace: 'cnt' }, spec: { provider: 'aws' } });
    c.emulator.counters.reset();
    const params = { group: CSI_GROUP, version: 'v1', namespace: 'cnt', plural: 'secretproviderclasses', name: 'counted' };
    await c.custom.getNamespacedCustomObject(params);
    await c.custom.getNamespacedCustomObject(params);
    await c.core.listNamespacedSecret({ namespace: 'cnt' });
    await c.core.createNamespacedSecret({ namespace: 'cnt', body: { metadata: { name: 'x' } } });
    expect(c.emulator.counters.byVerbResource()).toEqual({ 'create secrets': 1, 'get secretproviderclasses': 2, 'list secrets': 1 });
    expect(c.emulator.counters.total()).toBe(4);
    c.emulator.counters.reset();
    expect(c.emulator.counters.total()).toBe(0);
  });
});
