import { describe, expect, it } from 'vitest';
import type { LoggedEvent, LoggedObject, MountPublished, NewEvent } from './events.js';
import { toLoggedEvent } from './events.js';
import {
  applyEvent,
  applyEvents,
  deserializeState,
  emptyState,
  pendingSecretSyncs,
  serializeState,
} from './projections.js';
import type { ProjectedState } from './projections.js';
import { SecretletError } from '../errors.js';

const TIME = '2026-05-01T00:00:00.000Z';

function object(id: string, version = 'v1', hash = `h-${id}-${version}`): LoggedObject {
  return { id, objectName: id, objectType: 'ssmparameter', version, pinned: false, hash };
}

function published(podUid: string, overrides: Partial<MountPublished> = {}): NewEvent {
  return {
    type: 'MountPublished',
    payload: {
      mountKey: `${podUid}/csi-vol`,
      door: 'csi',
      pod: { namespace: 'default', name: `pod-${podUid}`, uid: podUid },
      serviceAccount: 'app',
      secretProviderClass: 'test-app-secretstore',
      authMode: 'podIdentity',
      regions: ['eu-west-1'],
      targetPath: `/var/lib/kubelet/pods/${podUid}/volumes/kubernetes.io~csi/secrets/mount`,
      objects: [object('piyopiyo'), object('my-parameter')],
      secretObjects: [
        {
          secretName: 'test-app-secret',
          type: 'Opaque',
          labels: {},
          annotations: {},
          data: [
            { objectName: 'piyopiyo', key: 'PIYO' },
            { objectName: 'my-parameter', key: 'PARAMETER' },
          ],
        },
      ],
      ...overrides,
    },
  };
}

/** Stamps events with consecutive seqs from `from` and applies them. */
function run(events: NewEvent[], state: ProjectedState = emptyState()): ProjectedState {
  const records: LoggedEvent[] = events.map((e, i) => toLoggedEvent(e, state.lastSeq + i + 1, TIME));
  return applyEvents(state, records);
}

describe('MountRegistry', () => {
  it('knows a published mount with everything rotation and unmount need', () => {
    const state = run([published('uid-a')]);
    const entry = state.mounts.get('uid-a/csi-vol');
    expect(entry).toMatchObject({
      serviceAccount: 'app',
      regions: ['eu-west-1'],
      targetPath: '/var/lib/kubelet/pods/uid-a/volumes/kubernetes.io~csi/secrets/mount',
      pod: { namespace: 'default', name: 'pod-uid-a', uid: 'uid-a' },
      publishedSeq: 1,
      changedSeq: 1,
    });
    expect(entry?.objects.map((o) => [o.id, o.version])).toEqual([
      ['piyopiyo', 'v1'],
      ['my-parameter', 'v1'],
    ]);
  });

  it('a rotation replaces versions and hashes; an update with the same contents keeps the change seq', () => {
    let state = run([published('uid-a')]);
    state = run([{ type: 'MountUpdated', payload: { mountKey: 'uid-a/csi-vol', objects: [object('piyopiyo', 'v2'), object('my-parameter')], cause: 'rotation' } }], state);
    expect(state.mounts.get('uid-a/csi-vol')?.objects[0]).toMatchObject({ version: 'v2', hash: 'h-piyopiyo-v2' });
    expect(state.mounts.get('uid-a/csi-vol')?.changedSeq).toBe(2);
    state = run([{ type: 'MountUpdated', payload: { mountKey: 'uid-a/csi-vol', objects: [object('piyopiyo', 'v2'), object('my-parameter')], cause: 'republish' } }], state);
    expect(state.mounts.get('uid-a/csi-vol')?.changedSeq).toBe(2);
  });

  it('a failed remount is remembered on the live mount and cleared by the next update', () => {
    let state = run([
      published('uid-a'),
      { type: 'MountFailed', payload: { mountKey: 'uid-a/csi-vol', pod: { namespace: 'default', name: 'pod-uid-a', uid: 'uid-a' }, code: 'UNAVAILABLE', reason: 'Throttled', message: 'GetParameters throttled' } },
    ]);
    expect(state.mounts.get('uid-a/csi-vol')?.lastFailure).toEqual({ seq: 2, code: 'UNAVAILABLE', reason: 'Throttled', message: 'GetParameters throttled' });
    state = run([{ type: 'MountUpdated', payload: { mountKey: 'uid-a/csi-vol', objects: [object('piyopiyo', 'v2')], cause: 'rotation' } }], state);
    expect(state.mounts.get('uid-a/csi-vol')?.lastFailure).toBeUndefined();
  });

  it('a failed first mount registers nothing', () => {
    const state = run([
      { type: 'MountFailed', payload: { mountKey: 'uid-x/csi-vol', pod: { namespace: 'default', name: 'x', uid: 'uid-x' }, code: 'NOT_FOUND', reason: 'SecretNotFound', message: 'objects[0] not found' } },
    ]);
    expect(state.mounts.size).toBe(0);
    expect(state.lastSeq).toBe(1);
  });

  it('unpublish removes the mount; a late update does not resurrect it', () => {
    const state = run([
      published('uid-a'),
      { type: 'MountUnpublished', payload: { mountKey: 'uid-a/csi-vol' } },
      { type: 'MountUpdated', payload: { mountKey: 'uid-a/csi-vol', objects: [object('piyopiyo', 'v9')], cause: 'rotation' } },
    ]);
    expect(state.mounts.size).toBe(0);
    expect(state.secrets.size).toBe(0);
  });
});

describe('DesiredSecrets', () => {
  it('a mount with secretObjects makes its Secret desired and pending until synced', () => {
    let state = run([published('uid-a')]);
    const desired = state.secrets.get('default/test-app-secret');
    expect(desired).toMatchObject({
      namespace: 'default',
      secretName: 'test-app-secret',
      owners: [{ mountKey: 'uid-a/csi-vol', uid: 'uid-a', name: 'pod-uid-a' }],
      sourceMountKey: 'uid-a/csi-vol',
      sources: [
        { objectName: 'piyopiyo', version: 'v1', hash: 'h-piyopiyo-v1' },
        { objectName: 'my-parameter', version: 'v1', hash: 'h-my-parameter-v1' },
      ],
    });
    expect(pendingSecretSyncs(state).map((s) => s.secretName)).toEqual(['test-app-secret']);

    state = run([{ type: 'SecretSynced', payload: { namespace: 'default', secretName: 'test-app-secret', mountKeys: ['uid-a/csi-vol'], dataHash: 'd1', basisSeq: 1 } }], state);
    expect(pendingSecretSyncs(state)).toEqual([]);
    expect(state.secrets.get('default/test-app-secret')?.synced).toEqual({ seq: 2, basisSeq: 1, dataHash: 'd1', mountKeys: ['uid-a/csi-vol'] });
  });

  it('two secretObjects entries of one class naming the same Secret: the last one is its data, as with the driver', () => {
    const entry = (objectName: string, key: string) => ({ secretName: 'db', type: 'Opaque', labels: {}, annotations: {}, data: [{ objectName, key }] });
    const state = run([published('uid-a', { secretObjects: [entry('piyopiyo', 'password'), entry('my-parameter', 'user')] })]);
    expect(state.secrets.get('default/db')?.spec.data).toEqual([{ objectName: 'my-parameter', key: 'user' }]);
    expect(state.secrets.get('default/db')?.sources.map((s) => s.objectName)).toEqual(['my-parameter']);
  });

  it('two pods sharing a synced Secret are both owners; the freshest mount is the source', () => {
    let state = run([
      published('uid-a'),
      published('uid-b'),
      { type: 'SecretSynced', payload: { namespace: 'default', secretName: 'test-app-secret', mountKeys: ['uid-a/csi-vol', 'uid-b/csi-vol'], dataHash: 'd1', basisSeq: 2 } },
    ]);
    const shared = state.secrets.get('default/test-app-secret');
    expect(shared?.owners.map((o) => o.name)).toEqual(['pod-uid-a', 'pod-uid-b']);
    expect(shared?.sourceMountKey).toBe('uid-b/csi-vol');
    expect(pendingSecretSyncs(state)).toEqual([]);

    // Rotation of pod a: a has the freshest data now, and the Secret needs a new sync.
    state = run([{ type: 'MountUpdated', payload: { mountKey: 'uid-a/csi-vol', objects: [object('piyopiyo', 'v2'), object('my-parameter')], cause: 'rotation' } }], state);
    expect(state.secrets.get('default/test-app-secret')?.sourceMountKey).toBe('uid-a/csi-vol');
    expect(pendingSecretSyncs(state).map((s) => s.changedSeq)).toEqual([4]);

    // Pod a goes away: b remains the only owner and the source (its data is older: sync again).
    state = run([
      { type: 'SecretSynced', payload: { namespace: 'default', secretName: 'test-app-secret', mountKeys: ['uid-a/csi-vol', 'uid-b/csi-vol'], dataHash: 'd2', basisSeq: 4 } },
      { type: 'MountUnpublished', payload: { mountKey: 'uid-a/csi-vol' } },
    ], state);
    expect(state.secrets.get('default/test-app-secret')).toMatchObject({
      owners: [{ mountKey: 'uid-b/csi-vol', uid: 'uid-b', name: 'pod-uid-b' }],
      sourceMountKey: 'uid-b/csi-vol',
      changedSeq: 6,
    });
    expect(pendingSecretSyncs(state)).toHaveLength(1);

    // The last owner goes: nothing is desired any more. The Secret was synced, so it stays as a
    // tombstone naming the pods to take out of its owners, until its release is on record.
    state = run([{ type: 'MountUnpublished', payload: { mountKey: 'uid-b/csi-vol' } }], state);
    expect(state.secrets.get('default/test-app-secret')).toMatchObject({ owners: [], releasing: ['uid-b'] });
    expect(pendingSecretSyncs(state)).toEqual([]);
    state = run([{ type: 'SecretReleased', payload: { namespace: 'default', secretName: 'test-app-secret' } }], state);
    expect(state.secrets.size).toBe(0);
  });

  it('a Secret never synced leaves no tombstone; one asked for again before its release is live again', () => {
    let state = run([published('uid-a'), { type: 'MountUnpublished', payload: { mountKey: 'uid-a/csi-vol' } }]);
    expect(state.secrets.size).toBe(0);

    state = run([
      published('uid-b'),
      { type: 'SecretSynced', payload: { namespace: 'default', secretName: 'test-app-secret', mountKeys: ['uid-b/csi-vol'], dataHash: 'd1', basisSeq: 3 } },
      { type: 'MountUnpublished', payload: { mountKey: 'uid-b/csi-vol' } },
      published('uid-c'),
      // A release that finished after the Secret was asked for again changes nothing.
      { type: 'SecretReleased', payload: { namespace: 'default', secretName: 'test-app-secret' } },
    ], state);
    const revived = state.secrets.get('default/test-app-secret');
    expect(revived?.owners.map((o) => o.uid)).toEqual(['uid-c']);
    expect(revived).not.toHaveProperty('releasing');
    expect(pendingSecretSyncs(state)).toHaveLength(1);
  });

  it('a sync based on an older desired state leaves the Secret pending', () => {
    const state = run([
      published('uid-a'),
      published('uid-b'),
      // The consumer synced the state of seq 1, and only logged it after pod b arrived.
      { type: 'SecretSynced', payload: { namespace: 'default', secretName: 'test-app-secret', mountKeys: ['uid-a/csi-vol'], dataHash: 'd1', basisSeq: 1 } },
    ]);
    expect(pendingSecretSyncs(state).map((s) => s.owners.length)).toEqual([2]);
  });

  it('a failed sync stays pending and keeps the reason; a later success clears it', () => {
    let state = run([
      published('uid-a'),
      { type: 'SecretSyncFailed', payload: { namespace: 'default', secretName: 'test-app-secret', reason: 'Forbidden', message: 'secrets is forbidden' } },
    ]);
    expect(pendingSecretSyncs(state)[0]?.lastFailure).toEqual({ seq: 2, reason: 'Forbidden', message: 'secrets is forbidden' });
    state = run([{ type: 'SecretSynced', payload: { namespace: 'default', secretName: 'test-app-secret', mountKeys: ['uid-a/csi-vol'], dataHash: 'd1' } }], state);
    expect(pendingSecretSyncs(state)).toEqual([]);
    expect(state.secrets.get('default/test-app-secret')?.lastFailure).toBeUndefined();
  });

  it('a rotation of an object whose jmesPath files feed the Secret makes it pending', () => {
    // The usual ASCP pattern: the Secret's keys come from jmesPath aliases, not from the object's own file.
    const credentials = (version: string): LoggedObject => ({ ...object('db-creds', version), jmesFiles: ['username', 'password'] });
    const spec = { secretName: 'db', type: 'Opaque', labels: {}, annotations: {}, data: [{ objectName: 'username', key: 'USER' }, { objectName: 'password', key: 'PASS' }] };
    let state = run([
      published('uid-a', { objects: [credentials('v1')], secretObjects: [spec] }),
      { type: 'SecretSynced', payload: { namespace: 'default', secretName: 'db', mountKeys: ['uid-a/csi-vol'], dataHash: 'd1', basisSeq: 1 } },
    ]);
    expect(state.secrets.get('default/db')?.sources).toEqual([
      { objectName: 'username', version: 'v1', hash: 'h-db-creds-v1' },
      { objectName: 'password', version: 'v1', hash: 'h-db-creds-v1' },
    ]);
    expect(pendingSecretSyncs(state)).toEqual([]);

    state = run([{ type: 'MountUpdated', payload: { mountKey: 'uid-a/csi-vol', objects: [credentials('v2')], cause: 'rotation' } }], state);
    expect(pendingSecretSyncs(state).map((s) => [s.secretName, s.changedSeq])).toEqual([['db', 3]]);
  });

  it('Secrets are per namespace, and a mount without secretObjects asks for none', () => {
    // The mounts without secretObjects come first, so they are live when the Secrets are derived.
    const state = run([
      published('uid-d', { secretObjects: [] }),
      published('uid-e', { pod: { namespace: 'lonely', name: 'e', uid: 'uid-e' }, secretObjects: [] }),
      published('uid-a'),
      published('uid-c', { pod: { namespace: 'other', name: 'c', uid: 'uid-c' } }),
    ]);
    // uid-e, alone in its namespace without secretObjects, creates no Secret there.
    expect([...state.secrets.keys()].sort()).toEqual(['default/test-app-secret', 'other/test-app-secret']);
    // uid-d shares uid-a's namespace but asks for no Secret, so it does not own uid-a's.
    expect(state.secrets.get('default/test-app-secret')?.owners).toEqual([{ mountKey: 'uid-a/csi-vol', uid: 'uid-a', name: 'pod-uid-a' }]);
    expect(state.secrets.get('other/test-app-secret')?.owners).toEqual([{ mountKey: 'uid-c/csi-vol', uid: 'uid-c', name: 'c' }]);
  });
});

describe('applyEvent', () => {
  it('ignores records already applied and refuses a gap', () => {
    const state = run([published('uid-a')]);
    expect(applyEvent(state, toLoggedEvent(published('uid-z'), 1, TIME))).toBe(state);
    expect(() => applyEvent(state, toLoggedEvent(published('uid-z'), 3, TIME))).toThrow(SecretletError);
  });

  it('moves past a record of an unknown type without changing mounts or Secrets', () => {
    const state = run([published('uid-a')]);
    const next = applyEvent(state, { seq: 2, time: TIME, type: 'Unrecognized', recordType: 'MountQuarantined' });
    expect(next.lastSeq).toBe(2);
    expect(serializeState({ ...next, lastSeq: 1 })).toEqual(serializeState(state));
    expect(applyEvent(next, toLoggedEvent(published('uid-b'), 3, TIME)).mounts.size).toBe(2);
  });

  it('never modifies the state it is given', () => {
    const before = run([published('uid-a')]);
    const frozen = JSON.stringify(serializeState(before));
    run([{ type: 'MountUnpublished', payload: { mountKey: 'uid-a/csi-vol' } }], before);
    expect(JSON.stringify(serializeState(before))).toBe(frozen);
  });
});

describe('state serialisation', () => {
  it('round-trips through JSON and keeps projecting identically', () => {
    const state = run([
      published('uid-a'),
      published('uid-b'),
      { type: 'SecretSynced', payload: { namespace: 'default', secretName: 'test-app-secret', mountKeys: ['uid-a/csi-vol'], dataHash: 'd1' } },
    ]);
    const restored = deserializeState(JSON.parse(JSON.stringify(serializeState(state))));
    expect(restored).toEqual(state);
    const next: NewEvent = { type: 'MountUnpublished', payload: { mountKey: 'uid-b/csi-vol' } };
    expect(serializeState(run([next], restored))).toEqual(serializeState(run([next], state)));
  });

  it('rejects something that is not a state', () => {
    for (const value of [{ format: 1 }, { format: '2' }, { format: 0, lastSeq: 1, mounts: [], secrets: [] }, null]) {
      expect(() => deserializeState(value)).toThrow(expect.objectContaining({ code: 'DATA_LOSS', reason: 'SnapshotInvalid' }));
    }
  });

  it('refuses a later format as written by a newer version, not as damage', () => {
    expect(() => deserializeState({ format: 2, lastSeq: 1, mounts: [], secrets: [], quarantined: [] })).toThrow(
      expect.objectContaining({ code: 'FAILED_PRECONDITION', reason: 'StateFromNewerVersion' }),
    );
  });
});
