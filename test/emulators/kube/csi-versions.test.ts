/**
 * Both served versions of the CSI types, as the project's CRDs serve them (v1 storage, v1alpha1
 * deprecated, same schema, conversion None): one object behind both URLs, each answering with its
 * own apiVersion, and discovery listing both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSI_GROUP, eventually, rawRequest, startWithClients } from './helpers.js';
import type { Clients } from './helpers.js';

const NS = 'alpha';
let c: Clients;
beforeAll(async () => {
  c = await startWithClients({}, [NS]);
});
afterAll(async () => {
  await c.emulator.stop();
});

const v1alpha1 = { group: CSI_GROUP, version: 'v1alpha1', namespace: NS, plural: 'secretproviderclasses' };
const v1 = { ...v1alpha1, version: 'v1' };

describe('secrets-store.csi.x-k8s.io/v1alpha1', () => {
  it('lists both versions in discovery, v1 preferred, each with both resources', async () => {
    const group = JSON.parse((await rawRequest(c.emulator, `/apis/${CSI_GROUP}`, { token: c.emulator.token })).body) as { versions: { version: string }[]; preferredVersion: { version: string } };
    expect(group.versions.map((v) => v.version)).toEqual(['v1', 'v1alpha1']);
    expect(group.preferredVersion.version).toBe('v1');
    const resources = JSON.parse((await rawRequest(c.emulator, `/apis/${CSI_GROUP}/v1alpha1`, { token: c.emulator.token })).body) as { groupVersion: string; resources: { name: string }[] };
    expect(resources.groupVersion).toBe(`${CSI_GROUP}/v1alpha1`);
    expect(resources.resources.map((r) => r.name)).toEqual(['secretproviderclasses', 'secretproviderclasspodstatuses']);
  });

  it('serves one object through both versions, each read carrying its own apiVersion', async () => {
    const created = (await c.custom.createNamespacedCustomObject({
      ...v1alpha1,
      body: { apiVersion: `${CSI_GROUP}/v1alpha1`, kind: 'SecretProviderClass', metadata: { name: 'old-style' }, spec: { provider: 'aws' } },
    })) as { apiVersion: string; metadata: { uid: string } };
    expect(created.apiVersion).toBe(`${CSI_GROUP}/v1alpha1`);

    const viaV1 = (await c.custom.getNamespacedCustomObject({ ...v1, name: 'old-style' })) as { apiVersion: string; metadata: { uid: string } };
    expect(viaV1).toMatchObject({ apiVersion: `${CSI_GROUP}/v1`, metadata: { uid: created.metadata.uid } });
    const listed = (await c.custom.listNamespacedCustomObject(v1alpha1)) as { apiVersion: string; items: { apiVersion: string }[] };
    expect(listed.apiVersion).toBe(`${CSI_GROUP}/v1alpha1`);
    expect(listed.items.map((i) => i.apiVersion)).toEqual([`${CSI_GROUP}/v1alpha1`]);

    expect(c.emulator.get(`${CSI_GROUP}/v1`, 'SecretProviderClass', NS, 'old-style')?.apiVersion).toBe(`${CSI_GROUP}/v1`);
    expect(c.emulator.get(`${CSI_GROUP}/v1alpha1`, 'SecretProviderClass', NS, 'old-style')?.apiVersion).toBe(`${CSI_GROUP}/v1alpha1`);
  });

  it('warns that v1alpha1 is deprecated, as the API server does for a deprecated CRD version', async () => {
    const res = await rawRequest(c.emulator, `/apis/${CSI_GROUP}/v1alpha1/namespaces/${NS}/secretproviderclasses`, { token: c.emulator.token });
    expect(res.code).toBe(200);
    const warning = res.headers['warning'];
    expect(warning).toBe(`299 - "${CSI_GROUP}/v1alpha1 SecretProviderClass is deprecated; use ${CSI_GROUP}/v1 SecretProviderClass"`);
  });

  it('watches through v1alpha1 with v1alpha1 objects, whichever version wrote them', async () => {
    const seen: string[] = [];
    const controller = await c.watch.watch(
      `/apis/${CSI_GROUP}/v1alpha1/namespaces/${NS}/secretproviderclasspodstatuses`,
      {},
      (type, obj: { apiVersion?: string; metadata?: { name?: string } }) => seen.push(`${type} ${obj.metadata?.name ?? ''} ${obj.apiVersion ?? ''}`),
      () => undefined,
    );
    try {
      c.emulator.apply({ apiVersion: `${CSI_GROUP}/v1`, kind: 'SecretProviderClassPodStatus', metadata: { name: 'written-as-v1', namespace: NS }, status: { mounted: true } });
      await eventually(() => (seen.length > 0 ? true : undefined), 'the watch event');
      expect(seen).toEqual([`ADDED written-as-v1 ${CSI_GROUP}/v1alpha1`]);
    } finally {
      controller.abort();
    }
  });
});
