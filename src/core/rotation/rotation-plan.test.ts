import { describe, expect, it } from 'vitest';
import { SecretletError } from '../errors.js';
import type { AwsIdentity, FetchedObject, MountPlan, ObjectDescriptor } from '../model.js';
import { err, ok } from '../result.js';
import { planFailover, planRotation, settleRotation, valuesFromPayload, wasThrottled } from './rotation-plan.js';
import type { FetchOutcome, RotationMount } from './rotation-plan.js';
import { descriptor } from '../../../test/support/descriptors.js';
// Test only: throttling as the real AWS adapter reports it, so the core cannot drift from the adapter.
import { mapAwsError } from '../../adapters/aws/error-mapping.js';

const enc = new TextEncoder();

function object(index: number, name: string, extra: Partial<ObjectDescriptor> = {}): ObjectDescriptor {
  return descriptor({ index, objectName: name, fileName: name, ...extra });
}

function identity(sa: string, token = `tok-${sa}`): AwsIdentity {
  return { mode: 'irsa', namespace: 'ns', serviceAccount: sa, podUid: `uid-${sa}`, token, preferredAddressType: 'auto' };
}

function plan(objects: ObjectDescriptor[], regions = ['us-east-1']): MountPlan {
  return {
    pod: { namespace: 'ns', name: 'p', uid: 'u', serviceAccount: 'sa' },
    regions,
    authMode: 'irsa',
    preferredAddressType: 'auto',
    pathTranslation: { kind: 'replace', char: '_' },
    objects,
    defaultMode: 0o644,
  };
}

function value(text: string, version: string): FetchedObject {
  return { bytes: enc.encode(text), version };
}

function mount(key: string, sa: string, objects: ObjectDescriptor[], values: Record<number, FetchedObject>, tokenSeenAt = 0): RotationMount {
  return { mountKey: key, plan: plan(objects), identity: identity(sa, `tok-${key}`), values: new Map(Object.entries(values).map(([k, v]) => [Number(k), v])), tokenSeenAt };
}

describe('planRotation', () => {
  it('asks once per identity and region for each unpinned object, whatever the number of mounts', () => {
    const objs = [object(0, 'a'), object(1, 'b')];
    const mounts = [
      mount('m1', 'sa1', objs, { 0: value('A', 'v1'), 1: value('B', 'v1') }),
      mount('m2', 'sa1', objs, { 0: value('A', 'v1'), 1: value('B', 'v1') }),
      mount('m3', 'sa2', [object(0, 'a')], { 0: value('A', 'v1') }),
    ];
    const p = planRotation(mounts);
    expect(p.groups).toHaveLength(2);
    expect(p.groups[0]?.requests).toEqual([
      { type: 'secretsmanager', secretId: 'a' },
      { type: 'secretsmanager', secretId: 'b' },
    ]);
    expect(p.groups[1]?.requests).toEqual([{ type: 'secretsmanager', secretId: 'a' }]);
  });

  it('does not re-fetch objects pinned to a version; asks for labelled ones again, by their label (labels move)', () => {
    const objs = [object(0, 'a', { objectVersion: 'v-pinned' }), object(1, 'b', { objectVersionLabel: 'AWSPREVIOUS' }), object(2, 'c')];
    const p = planRotation([mount('m1', 'sa1', objs, {})]);
    expect(p.groups[0]?.requests).toEqual([
      { type: 'secretsmanager', secretId: 'b', versionStage: 'AWSPREVIOUS' },
      { type: 'secretsmanager', secretId: 'c' },
    ]);
  });

  it('fetches with the freshest token of the service account', () => {
    const objs = [object(0, 'a')];
    const p = planRotation([mount('old', 'sa1', objs, {}, 1), mount('new', 'sa1', objs, {}, 5), mount('mid', 'sa1', objs, {}, 3)]);
    expect(p.groups[0]?.identity.token).toBe('tok-new');
  });

  it('separates regions of one identity', () => {
    const m1 = mount('m1', 'sa1', [object(0, 'a')], {});
    const m2: RotationMount = { ...mount('m2', 'sa1', [object(0, 'a')], {}), plan: plan([object(0, 'a')], ['eu-west-1']) };
    expect(planRotation([m1, m2]).groups.map((g) => g.region)).toEqual(['us-east-1', 'eu-west-1']);
  });
});

describe('settleRotation', () => {
  const objs = [object(0, 'a'), object(1, 'b', { objectVersion: 'pin' })];
  const current = { 0: value('A1', 'v1'), 1: value('B', 'pin') };

  it('reports unchanged when every fetched version and byte is the same', () => {
    const mounts = [mount('m1', 'sa1', objs, current)];
    const p = planRotation(mounts);
    const out = settleRotation(mounts, p, [[ok(value('A1', 'v1'))]]);
    expect(out).toEqual([{ mountKey: 'm1', status: 'unchanged' }]);
  });

  it('renders the whole payload, pinned object included, when one object changed', () => {
    const mounts = [mount('m1', 'sa1', objs, current), mount('m2', 'sa1', objs, { 0: value('A2', 'v2'), 1: value('B', 'pin') })];
    const p = planRotation(mounts);
    const out = settleRotation(mounts, p, [[ok(value('A2', 'v2'))]]);
    expect(out[0]).toMatchObject({ status: 'changed', changedObjects: [0] });
    if (out[0]?.status !== 'changed') throw new Error('expected changed');
    expect(out[0].files.map((f) => [f.path, new TextDecoder().decode(f.contents)])).toEqual([
      ['a', 'A2'],
      ['b', 'B'],
    ]);
    expect(out[0].versions).toEqual([
      { id: 'a', version: 'v2' },
      { id: 'b', version: 'pin' },
    ]);
    // m2 already shows v2: nothing to write there.
    expect(out[1]).toEqual({ mountKey: 'm2', status: 'unchanged' });
  });

  it('reports a new version with identical bytes as changed, so the mount shows the new version', () => {
    const mounts = [mount('m1', 'sa1', objs, current)];
    const out = settleRotation(mounts, planRotation(mounts), [[ok(value('A1', 'v2'))]]);
    expect(out[0]).toMatchObject({ status: 'changed', changedObjects: [0] });
    if (out[0]?.status !== 'changed') throw new Error('expected changed');
    expect(out[0].versions).toEqual([
      { id: 'a', version: 'v2' },
      { id: 'b', version: 'pin' },
    ]);
    expect(out[0].values.get(0)?.version).toBe('v2');
  });

  it('keeps the old content of a mount whose object failed, naming the object', () => {
    const mounts = [mount('m1', 'sa1', objs, current)];
    const p = planRotation(mounts);
    const throttled: FetchOutcome = err(mapAwsError({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }, { action: 'BatchGetSecretValue', region: 'us-east-1' }));
    const out = settleRotation(mounts, p, [[throttled]]);
    expect(out[0]).toMatchObject({ status: 'failed', error: { code: 'UNAVAILABLE', reason: 'Throttled', field: 'objects[0].objectName' } });
  });
});

describe('wasThrottled', () => {
  const throttling = (name: string): FetchOutcome => err(mapAwsError({ name, $metadata: { httpStatusCode: 400 } }, { action: 'GetParameters', region: 'us-east-1' }));

  it.each(['ThrottlingException', 'TooManyRequestsException', 'ThrottledException'])('is true for %s as the AWS adapter maps it', (name) => {
    expect(wasThrottled([[ok(value('x', '1')), throttling(name)]])).toBe(true);
  });

  it('is true for RESOURCE_EXHAUSTED (a source that reports quota that way)', () => {
    expect(wasThrottled([[err(new SecretletError({ code: 'RESOURCE_EXHAUSTED', reason: 'QuotaExceeded', message: 'quota' }))]])).toBe(true);
  });

  it('is false for answers, and for other server faults (AWS down is not a reason to slow down)', () => {
    expect(wasThrottled([[ok(value('x', '1'))]])).toBe(false);
    expect(wasThrottled([[err(mapAwsError({ name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } }, { action: 'GetParameters', region: 'us-east-1' }))]])).toBe(false);
  });
});

describe('planFailover and the failover round', () => {
  const unavailable: FetchOutcome = err(new SecretletError({ code: 'UNAVAILABLE', reason: 'ServiceUnavailable', message: 'primary down' }));
  const missing: FetchOutcome = err(new SecretletError({ code: 'NOT_FOUND', reason: 'ObjectNotFound', message: 'no such secret' }));
  const denied: FetchOutcome = err(new SecretletError({ code: 'PERMISSION_DENIED', reason: 'AccessDenied', message: 'not allowed' }));
  const objs = [object(0, 'a', { failoverObject: { objectName: 'arn:replica:a', objectVersion: '', objectVersionLabel: '' } }), object(1, 'b')];
  const withFailover = (key: string, sa: string, regions: string[]): RotationMount => ({
    ...mount(key, sa, objs, { 0: value('A', 'v1'), 1: value('B', 'v1') }),
    plan: plan(objs, regions),
  });

  it('asks the failover region, under the failover names, only for faults that fall over, of mounts that have one', () => {
    const mounts = [withFailover('m1', 'sa1', ['us-east-1', 'us-west-2']), withFailover('m2', 'sa1', ['us-east-1', 'us-west-2']), withFailover('m3', 'sa2', ['us-east-1'])];
    const primary = planRotation(mounts);
    // sa1: a unavailable, b not found (a fatal client fault: never retried elsewhere); sa2 has no failover region.
    const second = planFailover(mounts, primary, [[unavailable, missing], [unavailable, ok(value('B', 'v1'))]]);
    expect(second.groups).toEqual([{ key: expect.any(String) as string, identity: expect.objectContaining({ serviceAccount: 'sa1' }) as AwsIdentity, region: 'us-west-2', requests: [{ type: 'secretsmanager', secretId: 'arn:replica:a' }] }]);
    expect(second.slots.get('m1')).toEqual([{ index: 0, group: 0, request: 0 }]);
    expect(second.slots.get('m3')).toBeUndefined();
    expect(planFailover(mounts, primary, [[ok(value('A', 'v1')), ok(value('B', 'v1'))], [ok(value('A', 'v1'))]]).groups).toEqual([]);
  });

  it('asks the failover region after an access denial too, as ASCP does', () => {
    const mounts = [withFailover('m1', 'sa1', ['us-east-1', 'us-west-2'])];
    const second = planFailover(mounts, planRotation(mounts), [[ok(value('A', 'v1')), denied]]);
    expect(second.groups.map((g) => [g.region, g.requests])).toEqual([['us-west-2', [{ type: 'secretsmanager', secretId: 'b' }]]]);
  });

  it('settles with the failover answer, and names both regions when both failed', () => {
    const mounts = [withFailover('m1', 'sa1', ['us-east-1', 'us-west-2'])];
    const primary = planRotation(mounts);
    const results = [[unavailable, ok(value('B', 'v1'))]];
    const second = planFailover(mounts, primary, results);
    const rotated = settleRotation(mounts, primary, results, { plan: second, results: [[ok(value('A2', 'v2'))]] });
    expect(rotated[0]).toMatchObject({ status: 'changed', changedObjects: [0] });
    const stillDown = settleRotation(mounts, primary, results, { plan: second, results: [[unavailable]] });
    expect(stillDown[0]).toMatchObject({ status: 'failed', error: { code: 'UNAVAILABLE', field: 'objects[0].objectName' } });
    expect((stillDown[0] as { error: SecretletError }).error.message).toBe('rotation could not refresh a (objects[0]): us-east-1: primary down; failover us-west-2: primary down');
  });

  describe('a value whose JMESPath entries do not extract', () => {
    const jmesObject = object(0, 'db', { jmesPath: [{ path: 'user', objectAlias: 'u', filePermission: '' }] });
    const jmesMount = (key: string, regions: string[], jmes = true): RotationMount => {
      const objects = [jmes ? jmesObject : object(0, 'db')];
      return { ...mount(key, 'sa1', objects, { 0: value('{"user":"old"}', 'v1') }), plan: plan(objects, regions) };
    };

    it("falls over, judged by each mount's own entries (mounts of one identity share the request)", () => {
      // m1 extracts `user`, m2 has no entries, m3 extracts but has no failover region.
      const mounts = [jmesMount('m1', ['us-east-1', 'us-west-2']), jmesMount('m2', ['us-east-1', 'us-west-2'], false), jmesMount('m3', ['us-east-1'])];
      const primary = planRotation(mounts);
      expect(primary.groups[0]?.requests).toHaveLength(1);
      const results = [[ok(value('{"name":"new"}', 'v2'))]];
      const second = planFailover(mounts, primary, results);
      expect([...second.slots.keys()]).toEqual(['m1']);
      const settled = settleRotation(mounts, primary, results, { plan: second, results: [[ok(value('{"user":"replica"}', 'v2'))]] });
      expect(settled[0]).toMatchObject({ status: 'changed' });
      const files = (settled[0] as { files: Array<{ path: string; contents: Uint8Array }> }).files;
      expect(files.map((f) => [f.path, new TextDecoder().decode(f.contents)])).toEqual([['db', '{"user":"replica"}'], ['u', 'replica']]);
      expect(settled[1]).toMatchObject({ status: 'changed' });
      // Without a failover region the render's own error stands, and the old content stays.
      expect(settled[2]).toMatchObject({ status: 'failed', error: { reason: 'JmesPathFailed', field: 'objects[0].jmesPath[0].path' } });
    });

    it('names both regions when the failover value does not extract either', () => {
      const mounts = [jmesMount('m1', ['us-east-1', 'us-west-2'])];
      const primary = planRotation(mounts);
      const results = [[ok(value('not json', 'v2'))]];
      const second = planFailover(mounts, primary, results);
      const settled = settleRotation(mounts, primary, results, { plan: second, results: [[ok(value('{"user":7}', 'v2'))]] });
      expect(settled[0]).toMatchObject({ status: 'failed', error: { code: 'INVALID_ARGUMENT', reason: 'JmesPathFailed' } });
      expect((settled[0] as { error: SecretletError }).error.message).toBe(
        'rotation could not refresh db (objects[0]): us-east-1: Invalid JSON used with jmesPath in secret: db. (objects[0].jmesPath); failover us-west-2: Invalid JMES search result type for path:user. Only string is allowed. (objects[0].jmesPath[0].path)',
      );
    });
  });
});

describe('valuesFromPayload', () => {
  it('maps each object index to its own file and version', () => {
    const v = valuesFromPayload({ objects: [object(0, 'a'), object(1, 'b')] }, [{ path: 'a', mode: 0o644, contents: enc.encode('A') }], [{ id: 'a', version: '7' }]);
    expect([...v.keys()]).toEqual([0]);
    expect(v.get(0)?.version).toBe('7');
  });
});
