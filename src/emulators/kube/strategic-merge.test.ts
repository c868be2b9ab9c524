import { describe, expect, it } from 'vitest';
import { applyStrategicMergePatch } from './strategic-merge.js';

const owner = (uid: string): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Pod', name: uid, uid });

describe('strategic merge patch', () => {
  const base = { metadata: { labels: { a: '1', b: '2' } }, data: { k: 'v' }, list: [1, 2] };

  it('honours $patch on maps and stores no directive', () => {
    const patch = { metadata: { labels: { $patch: 'replace', z: '9' } }, data: { $patch: 'delete' } };
    expect(applyStrategicMergePatch(base, patch, 'Secret')).toEqual({ metadata: { labels: { z: '9' } }, list: [1, 2] });
  });

  it('merges ownerReferences by uid: $patch delete removes one, a new one is appended, others stay', () => {
    const secret = { metadata: { ownerReferences: [owner('a'), owner('b')] } };
    const patch = { metadata: { ownerReferences: [{ $patch: 'delete', uid: 'a' }, owner('c')] } };
    expect(applyStrategicMergePatch(secret, patch, 'Secret')).toEqual({ metadata: { ownerReferences: [owner('b'), owner('c')] } });
  });

  it('merges containers and their env by name, replaces lists without a merge key (tolerations)', () => {
    const pod = {
      spec: {
        containers: [{ name: 'app', image: 'a:1', env: [{ name: 'X', value: '1' }] }, { name: 'side', image: 's:1' }],
        tolerations: [{ key: 'k1' }, { key: 'k2' }],
      },
    };
    const patch = { spec: { containers: [{ name: 'app', image: 'a:2', env: [{ name: 'Y', value: '2' }] }], tolerations: [{ key: 'k3' }] } };
    expect(applyStrategicMergePatch(pod, patch, 'Pod')).toEqual({
      spec: {
        containers: [{ name: 'app', image: 'a:2', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] }, { name: 'side', image: 's:1' }],
        tolerations: [{ key: 'k3' }],
      },
    });
  });

  it('applies $deleteFromPrimitiveList, merges finalizers as a set, $setElementOrder and $retainKeys', () => {
    const obj = { metadata: { finalizers: ['a.io/x', 'a.io/y'] }, spec: { volumes: [{ name: 'v1', emptyDir: {} }, { name: 'v2', secret: { secretName: 's' } }] } };
    const patch = {
      metadata: { finalizers: ['a.io/z'], '$deleteFromPrimitiveList/finalizers': ['a.io/x'] },
      spec: { '$setElementOrder/volumes': [{ name: 'v2' }, { name: 'v1' }], volumes: [{ name: 'v2', $retainKeys: ['name', 'configMap'], configMap: { name: 'c' } }] },
    };
    expect(applyStrategicMergePatch(obj, patch, 'Pod')).toEqual({
      metadata: { finalizers: ['a.io/y', 'a.io/z'] },
      spec: { volumes: [{ name: 'v2', configMap: { name: 'c' } }, { name: 'v1', emptyDir: {} }] },
    });
  });

  it('replaces a whole merge-keyed list when an item says $patch: replace', () => {
    const secret = { metadata: { ownerReferences: [owner('a')] } };
    expect(applyStrategicMergePatch(secret, { metadata: { ownerReferences: [{ $patch: 'replace' }, owner('b')] } }, 'Secret')).toEqual({ metadata: { ownerReferences: [owner('b')] } });
  });
});
