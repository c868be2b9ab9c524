import { describe, expect, it } from 'vitest';
import type { MountPlan } from '../model.js';
import type { ContentHasher } from '../ports/event-log.js';
import { mountKeyFromTargetPath, mountPublishedEvent, mountUpdatedEvent } from './mount-events.js';
import { descriptor } from '../../../test/support/descriptors.js';

const SECRET = 'correct horse battery staple';

/** A fake keyed hasher: deterministic, and obviously not the value. */
const hasher: ContentHasher = { hash: (bytes) => `h${bytes.length}`.padEnd(32, '0') };


const plan: MountPlan = {
  pod: { namespace: 'shop', name: 'web-0', uid: 'uid-1', serviceAccount: 'web' },
  regions: ['eu-west-1', 'eu-central-1'],
  authMode: 'irsa',
  preferredAddressType: 'auto',
  pathTranslation: { kind: 'replace', char: '_' },
  objects: [descriptor({ index: 0, objectName: 'db' }), descriptor({ index: 1, objectName: 'api', objectAlias: 'api-key', objectVersion: 'ver-3' })],
  defaultMode: 0o644,
};

const files = [
  { path: 'db', mode: 0o644, contents: new TextEncoder().encode(SECRET) },
  { path: 'api-key', mode: 0o644, contents: new TextEncoder().encode('k') },
];

describe('mount events', () => {
  it('records names, versions, pinning and keyed hashes, never the value', () => {
    const event = mountPublishedEvent({
      mountKey: 'uid-1/web-secrets',
      door: 'provider',
      plan,
      secretProviderClass: 'web-spc',
      targetPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/web-secrets/mount',
      versions: [
        { id: 'db', version: 'ver-7' },
        { id: 'api-key', version: 'ver-3' },
      ],
      files,
      secretObjects: [],
      hasher,
    });
    // The whole event, exactly: a field carrying the contents (or anything else) would fail here.
    expect(event).toEqual({
      type: 'MountPublished',
      payload: {
        mountKey: 'uid-1/web-secrets',
        door: 'provider',
        pod: { namespace: 'shop', name: 'web-0', uid: 'uid-1' },
        serviceAccount: 'web',
        secretProviderClass: 'web-spc',
        authMode: 'irsa',
        regions: ['eu-west-1', 'eu-central-1'],
        targetPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/web-secrets/mount',
        objects: [
          { id: 'db', objectName: 'db', objectType: 'secretsmanager', version: 'ver-7', pinned: false, hash: 'h28'.padEnd(32, '0'), jmesFiles: [] },
          { id: 'api-key', objectName: 'api', objectType: 'secretsmanager', version: 'ver-3', pinned: true, hash: 'h1'.padEnd(32, '0'), jmesFiles: [] },
        ],
        secretObjects: [],
      },
    });
    expect(JSON.stringify(event)).not.toContain(SECRET);
  });

  it('an update carries the new versions and the cause; a missing file gets an empty hash', () => {
    const event = mountUpdatedEvent({ mountKey: 'uid-1/web-secrets', plan, versions: [{ id: 'db', version: 'ver-8' }], files: files.slice(0, 1), cause: 'rotation', hasher });
    expect(event).toMatchObject({
      type: 'MountUpdated',
      payload: { cause: 'rotation', objects: [{ id: 'db', version: 'ver-8' }, { id: 'api-key', version: '', hash: '' }] },
    });
  });

  it('derives the provider door mount key from kubelet target paths only', () => {
    expect(mountKeyFromTargetPath('/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/web-secrets/mount')).toBe('uid-1/web-secrets');
    expect(mountKeyFromTargetPath('/tmp/somewhere/mount')).toBeUndefined();
  });
});
