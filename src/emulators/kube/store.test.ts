import { describe, expect, it } from 'vitest';
import { typeById } from './resources.js';
import type { ResourceType } from './resources.js';
import { ObjectStore } from './store.js';

function type(id: string): ResourceType {
  const t = typeById(id);
  if (t === undefined) throw new Error(id);
  return t;
}
const SECRETS = type('/secrets');
const SPC = type('secrets-store.csi.x-k8s.io/secretproviderclasses');

describe('ObjectStore', () => {
  it('bumps generation on spec changes only, and resourceVersion on every change', () => {
    const store = new ObjectStore({ now: () => 0 });
    store.ensureNamespace('n');
    const created = store.create(SPC, { apiVersion: 'x', kind: 'x', metadata: { name: 'a', namespace: 'n' }, spec: { provider: 'aws' } });
    const labelled = store.update(SPC, { ...created, metadata: { ...created.metadata, labels: { l: '1' } } });
    expect(labelled.metadata.generation).toBe(1);
    expect(Number(labelled.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    const changed = store.update(SPC, { ...labelled, spec: { provider: 'gcp' } });
    expect(changed.metadata.generation).toBe(2);
    expect(created.metadata.creationTimestamp).toBe('1970-01-01T00:00:00Z');
  });

  it('reports history older than what it keeps as expired', () => {
    const store = new ObjectStore({ now: () => 0, historyLimit: 3 });
    store.ensureNamespace('n');
    const first = store.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's0', namespace: 'n' } });
    for (let i = 1; i < 6; i++) store.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `s${i}`, namespace: 'n' } });
    expect(store.eventsSince(Number(first.metadata.resourceVersion))).toBeUndefined();
    expect(store.eventsSince(store.resourceVersion() - 2)?.map((e) => e.object.metadata.name)).toEqual(['s4', 's5']);
  });

  it('names objects from generateName and rejects invalid names with 422 Invalid', () => {
    const store = new ObjectStore({ now: () => 0 });
    store.ensureNamespace('n');
    const made = store.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { generateName: 'tok-', namespace: 'n' } });
    expect(made.metadata.name).toMatch(/^tok-[0-9a-f]{5}$/);
    expect(() => store.create(SECRETS, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'Bad_Name', namespace: 'n' } })).toThrow(
      expect.objectContaining({ reason: 'Invalid', field: 'metadata.name' }),
    );
  });
});
