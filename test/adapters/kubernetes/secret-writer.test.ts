import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../../src/adapters/kubernetes/kube-config.js';
import { KubeSecretWriter, mergeOwners } from '../../../src/adapters/kubernetes/secret-writer.js';
import type { SecretletError } from '../../../src/core/errors.js';
import { MANAGED_LABEL } from '../../../src/core/secrets/desired-secret.js';
import type { DesiredSecret } from '../../../src/core/secrets/desired-secret.js';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator, KubeObject } from '../../../src/emulators/kube/index.js';

const pod = (uid: string) => ({ apiVersion: 'v1', kind: 'Pod', name: `pod-${uid}`, uid });

describe('mergeOwners (one node’s share of a Secret’s owners)', () => {
  it('adds this node’s pods, drops only the ones it released, and keeps everyone else’s references as they are', () => {
    const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'r', controller: true, blockOwnerDeletion: true };
    const merged = mergeOwners([pod('c'), rs, pod('a'), pod('x')], { pods: [{ name: 'pod-b', uid: 'b' }, { name: 'pod-a', uid: 'a' }], released: new Set(['x']) });
    expect(merged).toEqual([pod('a'), pod('b'), pod('c'), rs]);
  });

  it('releasing a pod that is not an owner changes nothing', () => {
    expect(mergeOwners([pod('a')], { pods: [], released: new Set(['z']) })).toEqual([pod('a')]);
  });
});

describe('KubeSecretWriter against the local API server', () => {
  let emulator: KubeEmulator;
  let dir: string;
  let writer: KubeSecretWriter;

  beforeAll(async () => {
    emulator = await startKubeEmulator();
    dir = await mkdtemp(join(tmpdir(), 'secretlet-sw-'));
    await emulator.writeKubeconfig(join(dir, 'kubeconfig'));
    writer = new KubeSecretWriter(loadKubeConfig(join(dir, 'kubeconfig')));
  });

  afterAll(async () => {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const desired = (name: string, value: string): DesiredSecret => ({
    namespace: 'default',
    name,
    type: 'Opaque',
    labels: { [MANAGED_LABEL]: 'true' },
    annotations: {},
    data: { key: new TextEncoder().encode(value) },
  });
  const owners = (name: string): string[] => (emulator.get('v1', 'Secret', 'default', name)?.metadata.ownerReferences ?? []).map((o) => o.uid);

  it('two nodes writing one Secret both stay owners; an unchanged write is skipped', async () => {
    expect(await writer.apply(desired('shared', 'v1'), { pods: [{ name: 'pod-a', uid: 'a' }], released: new Set() })).toBe('created');
    expect(await writer.apply(desired('shared', 'v1'), { pods: [{ name: 'pod-b', uid: 'b' }], released: new Set() })).toBe('updated');
    expect(owners('shared')).toEqual(['a', 'b']);
    expect(await writer.apply(desired('shared', 'v1'), { pods: [{ name: 'pod-a', uid: 'a' }], released: new Set() })).toBe('unchanged');
  });

  it('release drops only the released owners and deletes the Secret when none is left', async () => {
    await writer.apply(desired('rel', 'v1'), { pods: [{ name: 'pod-a', uid: 'a' }, { name: 'pod-b', uid: 'b' }], released: new Set() });
    expect(await writer.release('default', 'rel', new Set(['a']))).toBe('updated');
    expect(owners('rel')).toEqual(['b']);
    expect(await writer.release('default', 'rel', new Set(['a']))).toBe('unchanged');
    expect(await writer.release('default', 'rel', new Set(['b']))).toBe('deleted');
    expect(emulator.get('v1', 'Secret', 'default', 'rel')).toBeUndefined();
    expect(await writer.release('default', 'rel', new Set(['b']))).toBe('absent');
  });

  it('a changed type replaces the managed Secret (the API server refuses a type change), keeping its owners', async () => {
    await writer.apply(desired('typed', 'v1'), { pods: [{ name: 'pod-a', uid: 'a' }], released: new Set() });
    const before = emulator.get('v1', 'Secret', 'default', 'typed')!;
    const tls: DesiredSecret = { ...desired('typed', 'v1'), type: 'kubernetes.io/tls', data: { 'tls.crt': new TextEncoder().encode('c'), 'tls.key': new TextEncoder().encode('k') } };
    expect(await writer.apply(tls, { pods: [{ name: 'pod-b', uid: 'b' }], released: new Set() })).toBe('updated');
    const after = emulator.get('v1', 'Secret', 'default', 'typed')!;
    expect(after.type).toBe('kubernetes.io/tls');
    expect(Object.keys(after.data as Record<string, string>).sort()).toEqual(['tls.crt', 'tls.key']);
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(owners('typed')).toEqual(['a', 'b']);
  });

  it('keeps the previous Secret, never deleting it, when the new type is refused, and reports the refusal', async () => {
    await writer.apply(desired('kept', 'v1'), { pods: [{ name: 'pod-a', uid: 'a' }], released: new Set() });
    const original = emulator.get('v1', 'Secret', 'default', 'kept')?.metadata.uid;
    // dockerconfigjson needs a `.dockerconfigjson` key, which this data lacks: the create is refused (422).
    const refused = await writer
      .apply({ ...desired('kept', 'v1'), type: 'kubernetes.io/dockerconfigjson' }, { pods: [{ name: 'pod-a', uid: 'a' }], released: new Set() })
      .then(() => undefined, (e: unknown) => e as Error);
    expect(refused?.message).toMatch(/replace secret default\/kept with type kubernetes\.io\/dockerconfigjson; the previous one stays/);
    // The create was refused as a dry run, before any delete: the same object (a crash at no point
    // could have left pods without it).
    expect(emulator.get('v1', 'Secret', 'default', 'kept')?.metadata.uid).toBe(original);
    const after = emulator.get('v1', 'Secret', 'default', 'kept');
    expect(after?.type).toBe('Opaque');
    expect(Buffer.from((after?.data as Record<string, string>)['key']!, 'base64').toString()).toBe('v1');
    expect(owners('kept')).toEqual(['a']);
    expect(refused).toMatchObject({ reason: 'FailedToCreateSecret' }); // Secret sync retries it at its resync interval

    // The same refused replacement is not tried again: each try would delete and re-create the Secret.
    const uid = emulator.get('v1', 'Secret', 'default', 'kept')?.metadata.uid;
    const again = await writer
      .apply({ ...desired('kept', 'v1'), type: 'kubernetes.io/dockerconfigjson' }, { pods: [{ name: 'pod-a', uid: 'a' }], released: new Set() })
      .then(() => undefined, (e: unknown) => e as Error);
    expect(again?.message).toBe(refused?.message);
    expect(emulator.get('v1', 'Secret', 'default', 'kept')?.metadata.uid).toBe(uid);
    // With the key the type needs, the replacement goes ahead.
    const docker: DesiredSecret = { ...desired('kept', 'v1'), type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': new TextEncoder().encode('{"auths":{}}') } };
    expect(await writer.apply(docker, { pods: [{ name: 'pod-a', uid: 'a' }], released: new Set() })).toBe('updated');
    expect(emulator.get('v1', 'Secret', 'default', 'kept')?.type).toBe('kubernetes.io/dockerconfigjson');
  });

  it('reports a Secret the API server refuses to create as FailedToCreateSecret (retried at the resync interval)', async () => {
    // A new Secret of a type whose key is missing (422 Invalid): no quick retry can fix it, only a
    // change of the SecretProviderClass or the files. Before, it was retried every ~10 s, each time
    // logged at warn.
    const refused = await writer
      .apply({ ...desired('never', 'v1'), type: 'kubernetes.io/dockerconfigjson' }, { pods: [{ name: 'pod-a', uid: 'a' }], released: new Set() })
      .then(() => undefined, (e: unknown) => e as SecretletError);
    expect(refused).toMatchObject({ reason: 'FailedToCreateSecret', code: 'FAILED_PRECONDITION' });
    expect(refused?.message).toMatch(/^failed to write secret default\/never: .*\.dockerconfigjson/);
    expect(emulator.get('v1', 'Secret', 'default', 'never')).toBeUndefined();
  });

  it('never writes or deletes a Secret it does not manage', async () => {
    emulator.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'theirs', namespace: 'default' }, type: 'Opaque', data: { key: 'dGhlaXJz' } } as KubeObject);
    expect(await writer.apply(desired('theirs', 'mine'), { pods: [{ name: 'pod-a', uid: 'a' }], released: new Set() })).toBe('unmanaged');
    expect(await writer.release('default', 'theirs', new Set(['a']))).toBe('unmanaged');
    expect(emulator.get('v1', 'Secret', 'default', 'theirs')?.metadata.ownerReferences).toBeUndefined();
  });
});
