import { describe, expect, it } from 'vitest';
import { SecretletError } from '../errors.js';
import type { AwsIdentity, FetchedObject, MountPlan, ObjectRequest } from '../model.js';
import type { FetchOptions, SecretSource } from '../ports/secret-source.js';
import { err, ok } from '../result.js';
import type { Result } from '../result.js';
import { parseMountRequest, planMount } from '../spc/mount-request.js';
import { fetchMountValues, runMountJob } from './mount-job.js';

const enc = new TextEncoder();

type Behaviour = (region: string, request: ObjectRequest) => Result<FetchedObject, SecretletError>;

/** An in-memory SecretSource that records every call. */
class FakeSecretSource implements SecretSource {
  readonly calls: Array<{ region: string; requests: ObjectRequest[]; identity: AwsIdentity; options: FetchOptions | undefined }> = [];
  constructor(private readonly behaviour: Behaviour) {}

  async fetch(identity: AwsIdentity, region: string, requests: readonly ObjectRequest[], options?: FetchOptions): Promise<Array<Result<FetchedObject, SecretletError>>> {
    this.calls.push({ region, requests: [...requests], identity, options });
    return requests.map((r) => this.behaviour(region, r));
  }
}

function nameOf(r: ObjectRequest): string {
  return r.type === 'secretsmanager' ? r.secretId : r.name;
}

function found(region: string, r: ObjectRequest): Result<FetchedObject, SecretletError> {
  return ok({ bytes: enc.encode(`${nameOf(r)}@${region}`), version: `${region}-v` });
}

function fault(code: SecretletError['code'], message: string): SecretletError {
  return new SecretletError({ code, reason: code === 'NOT_FOUND' ? 'NotFound' : 'Unavailable', message });
}

const TOKENS = JSON.stringify({ 'sts.amazonaws.com': { token: 'jwt' } });
const identity: AwsIdentity = { mode: 'irsa', namespace: 'ns', serviceAccount: 'sa', podUid: 'u', token: 'jwt', preferredAddressType: 'auto' };

function planOf(objects: string, params: Record<string, string> = {}): MountPlan {
  const attributes = JSON.stringify({ 'csi.storage.k8s.io/serviceAccount.tokens': TOKENS, objects, region: 'us-east-1', ...params });
  const parsed = parseMountRequest({ attributes, targetPath: '/t', permission: '420' });
  return planMount(parsed, parsed.regionParam);
}

const MIXED = `
- objectName: db
  objectType: secretsmanager
  objectVersion: v1
  objectVersionLabel: AWSCURRENT
- objectName: /app/key
  objectType: ssmparameter
  objectVersion: "3"
- objectName: /app/other
  objectType: ssmparameter
  objectVersionLabel: prod
- objectName: plain
  objectType: ssmparameter
`;

async function failure(p: Promise<unknown>): Promise<SecretletError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SecretletError) return e;
    throw e;
  }
  throw new Error('expected the mount job to fail');
}

describe('runMountJob', () => {
  it('fetches every object in one call to the primary region with the right requests', async () => {
    const source = new FakeSecretSource(found);
    const out = await runMountJob(planOf(MIXED), { source, identity });
    expect(source.calls).toHaveLength(1);
    expect(source.calls[0]?.region).toBe('us-east-1');
    expect(source.calls[0]?.identity).toBe(identity);
    expect(source.calls[0]?.requests).toEqual([
      { type: 'secretsmanager', secretId: 'db', versionId: 'v1', versionStage: 'AWSCURRENT' },
      { type: 'ssmparameter', name: '/app/key', selector: '3' },
      { type: 'ssmparameter', name: '/app/other', selector: 'prod' },
      { type: 'ssmparameter', name: 'plain' },
    ]);
    expect(out.files.map((f) => f.path)).toEqual(['db', '_app_key', '_app_other', 'plain']);
    expect(out.fetched.map((f) => f.region)).toEqual(['us-east-1', 'us-east-1', 'us-east-1', 'us-east-1']);
  });

  it('tells the source when the mount arrived, in the primary and the failover region', async () => {
    const source = new FakeSecretSource((region, r) => (region === 'us-east-1' ? err(fault('UNAVAILABLE', 'down')) : found(region, r)));
    await fetchMountValues(planOf('- objectName: db\n  objectType: secretsmanager\n', { failoverRegion: 'us-west-2' }), { source, identity, notBefore: 1234 });
    expect(source.calls.map((c) => [c.region, c.options?.notBefore])).toEqual([
      ['us-east-1', 1234],
      ['us-west-2', 1234],
    ]);
  });

  it('does not call the failover region when the primary succeeds', async () => {
    const source = new FakeSecretSource(found);
    await runMountJob(planOf(MIXED, { failoverRegion: 'us-west-2' }), { source, identity });
    expect(source.calls.map((c) => c.region)).toEqual(['us-east-1']);
  });

  it('retries only server-fault objects in the failover region, with the failover name and version', async () => {
    const objects = `
- objectName: a
  objectType: secretsmanager
- objectName: b
  objectType: secretsmanager
  objectAlias: b-file
  objectVersion: v1
  failoverObject:
    objectName: b-replica
    objectVersion: v1
    objectVersionLabel: AWSPREVIOUS
`;
    const source = new FakeSecretSource((region, r) =>
      region === 'us-east-1' && nameOf(r) === 'b' ? err(fault('UNAVAILABLE', 'service unavailable')) : found(region, r),
    );
    const out = await runMountJob(planOf(objects, { failoverRegion: 'us-west-2' }), { source, identity });
    expect(source.calls.map((c) => c.region)).toEqual(['us-east-1', 'us-west-2']);
    expect(source.calls[1]?.requests).toEqual([{ type: 'secretsmanager', secretId: 'b-replica', versionId: 'v1', versionStage: 'AWSPREVIOUS' }]);
    expect(out.fetched).toEqual([
      { index: 0, region: 'us-east-1', version: 'us-east-1-v' },
      { index: 1, region: 'us-west-2', version: 'us-west-2-v' },
    ]);
    expect(out.versions).toEqual([
      { id: 'a', version: 'us-east-1-v' },
      { id: 'b-file', version: 'us-west-2-v' },
    ]);
  });

  it.each(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'INTERNAL', 'RESOURCE_EXHAUSTED'] as const)('%s is a server fault that fails over', async (code) => {
    const source = new FakeSecretSource((region, r) => (region === 'us-east-1' ? err(fault(code, 'boom')) : found(region, r)));
    await runMountJob(planOf('- objectName: a\n  objectType: ssmparameter\n', { failoverRegion: 'us-west-2' }), { source, identity });
    expect(source.calls.map((c) => c.region)).toEqual(['us-east-1', 'us-west-2']);
  });

  it('an access denial in the primary fails over, as ASCP does (its SDK does not model AccessDenied)', async () => {
    const denied = new SecretletError({ code: 'PERMISSION_DENIED', reason: 'AccessDenied', message: 'AccessDeniedException: not allowed in us-east-1' });
    const source = new FakeSecretSource((region, r) => (region === 'us-east-1' ? err(denied) : found(region, r)));
    const out = await runMountJob(planOf('- objectName: a\n  objectType: secretsmanager\n', { failoverRegion: 'us-west-2' }), { source, identity });
    expect(source.calls.map((c) => c.region)).toEqual(['us-east-1', 'us-west-2']);
    expect(out.fetched).toEqual([{ index: 0, region: 'us-west-2', version: 'us-west-2-v' }]);
  });

  it("words a failure of the pod's identity as ASCP's credential step does: the region and the error, no object", async () => {
    const noRole = new SecretletError({ code: 'FAILED_PRECONDITION', reason: 'IamRoleMissing', field: 'csi.storage.k8s.io/serviceAccount.name', message: 'An IAM role must be associated with service account sa (namespace: ns)' });
    const source = new FakeSecretSource(() => err(noRole));
    const e = await failure(runMountJob(planOf('- objectName: a\n  objectType: secretsmanager\n'), { source, identity }));
    expect({ code: e.code, reason: e.reason, field: e.field, message: e.message }).toEqual({
      code: 'FAILED_PRECONDITION',
      reason: 'IamRoleMissing',
      field: 'csi.storage.k8s.io/serviceAccount.name',
      message: 'us-east-1: An IAM role must be associated with service account sa (namespace: ns)',
    });
  });

  it('a decryption failure stays fatal (modeled in ASCP): no failover', async () => {
    const kms = new SecretletError({ code: 'PERMISSION_DENIED', reason: 'DecryptionFailure', message: 'DecryptionFailure: key disabled' });
    const source = new FakeSecretSource((region, r) => (region === 'us-east-1' ? err(kms) : found(region, r)));
    const e = await failure(runMountJob(planOf('- objectName: a\n  objectType: secretsmanager\n', { failoverRegion: 'us-west-2' }), { source, identity }));
    expect(e.reason).toBe('DecryptionFailure');
    expect(source.calls).toHaveLength(1);
  });

  it('treats client faults as fatal: no failover, real cause named', async () => {
    const source = new FakeSecretSource((region, r) =>
      nameOf(r) === 'missing' ? err(fault('NOT_FOUND', 'Secrets Manager can not find the specified secret')) : found(region, r),
    );
    const plan = planOf('- objectName: ok\n  objectType: secretsmanager\n- objectName: missing\n  objectType: secretsmanager\n', { failoverRegion: 'us-west-2' });
    const e = await failure(runMountJob(plan, { source, identity }));
    expect(source.calls).toHaveLength(1);
    expect(e.code).toBe('NOT_FOUND');
    expect(e.field).toBe('objects[1].objectName');
    expect(e.message).toBe('failed to fetch missing (objects[1]) from us-east-1: Secrets Manager can not find the specified secret');
  });

  it('fails with both causes when the failover region fails too', async () => {
    const source = new FakeSecretSource((region) => err(region === 'us-east-1' ? fault('UNAVAILABLE', 'down') : fault('NOT_FOUND', 'no replica')));
    const e = await failure(runMountJob(planOf('- objectName: a\n  objectType: ssmparameter\n', { failoverRegion: 'us-west-2' }), { source, identity }));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe('failed to fetch a (objects[0]) from us-east-1: down; failover us-west-2: no replica');
  });

  it('reports the first failing object in object order', async () => {
    const source = new FakeSecretSource((_region, r) => err(fault('NOT_FOUND', `no ${nameOf(r)}`)));
    const e = await failure(runMountJob(planOf('- objectName: x\n  objectType: ssmparameter\n- objectName: y\n  objectType: ssmparameter\n'), { source, identity }));
    expect(e.field).toBe('objects[0].objectName');
  });

  it('without a failover region a server fault is final', async () => {
    const source = new FakeSecretSource(() => err(fault('UNAVAILABLE', 'down')));
    const e = await failure(runMountJob(planOf('- objectName: a\n  objectType: ssmparameter\n'), { source, identity }));
    expect(e.code).toBe('UNAVAILABLE');
    expect(source.calls).toHaveLength(1);
  });

  it('a thrown whole-call failure counts for every object and may fail over', async () => {
    const source: SecretSource & { regions: string[] } = {
      regions: [],
      async fetch(_identity, region, requests) {
        this.regions.push(region);
        if (region === 'us-east-1') throw fault('UNAVAILABLE', 'connection reset');
        return requests.map((r) => found(region, r));
      },
    };
    const out = await runMountJob(planOf(MIXED, { failoverRegion: 'us-west-2' }), { source, identity });
    expect(source.regions).toEqual(['us-east-1', 'us-west-2']);
    expect(out.fetched.every((f) => f.region === 'us-west-2')).toBe(true);
  });

  it('renders JMES files and fails with the JMES error naming the object', async () => {
    const objects = '- objectName: db\n  objectType: secretsmanager\n  jmesPath:\n    - path: user\n      objectAlias: u\n';
    const good = new FakeSecretSource(() => ok({ bytes: enc.encode('{"user":"admin"}'), version: 'v1' }));
    const out = await runMountJob(planOf(objects), { source: good, identity });
    expect(out.files.map((f) => f.path)).toEqual(['db', 'u']);
    const bad = new FakeSecretSource(() => ok({ bytes: enc.encode('{"name":"x"}'), version: 'v1' }));
    const e = await failure(runMountJob(planOf(objects), { source: bad, identity }));
    expect(e.reason).toBe('JmesPathFailed');
    expect(e.field).toBe('objects[0].jmesPath[0].path');
  });

  it('asks the failover region for an object whose primary value does not extract, as ASCP does; only that object', async () => {
    const objects = '- objectName: db\n  objectType: secretsmanager\n  jmesPath:\n    - path: user\n      objectAlias: u\n- objectName: /k\n  objectType: ssmparameter\n';
    const source = new FakeSecretSource((region, r) =>
      r.type === 'secretsmanager' ? ok({ bytes: enc.encode(region === 'us-east-1' ? '{"name":"x"}' : '{"user":"replica"}'), version: `${region}-v` }) : found(region, r),
    );
    const out = await runMountJob(planOf(objects, { failoverRegion: 'us-west-2' }), { source, identity });
    expect(source.calls.map((c) => [c.region, c.requests.length])).toEqual([['us-east-1', 2], ['us-west-2', 1]]);
    expect(out.files.map((f) => [f.path, new TextDecoder().decode(f.contents)])).toEqual([
      ['db', '{"user":"replica"}'],
      ['u', 'replica'],
      ['_k', '/k@us-east-1'],
    ]);
    expect(out.fetched.map((f) => f.region)).toEqual(['us-west-2', 'us-east-1']);
  });

  it('fails naming both regions when neither value extracts', async () => {
    const objects = '- objectName: db\n  objectType: secretsmanager\n  jmesPath:\n    - path: user\n      objectAlias: u\n';
    const source = new FakeSecretSource((region) => ok({ bytes: enc.encode(region === 'us-east-1' ? 'not json' : '{"other":"x"}'), version: 'v1' }));
    const e = await failure(runMountJob(planOf(objects, { failoverRegion: 'us-west-2' }), { source, identity }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.reason).toBe('JmesPathFailed');
    expect(e.message).toBe(
      'failed to fetch db (objects[0]) from us-east-1: Invalid JSON used with jmesPath in secret: db. (objects[0].jmesPath); failover us-west-2: JMES Path - user for object alias - u does not point to a valid object. (objects[0].jmesPath[0].path)',
    );
  });

  it('fetches without rendering: values keyed by object index, JMES not evaluated', async () => {
    const objects = '- objectName: db\n  objectType: secretsmanager\n  jmesPath:\n    - path: user\n      objectAlias: u\n- objectName: /k\n  objectType: ssmparameter\n';
    const source = new FakeSecretSource((region, r) => (r.type === 'secretsmanager' ? ok({ bytes: enc.encode('not json'), version: 'v1' }) : found(region, r)));
    const out = await fetchMountValues(planOf(objects), { source, identity });
    expect([...out.values.keys()]).toEqual([0, 1]);
    expect(new TextDecoder().decode(out.values.get(0)?.bytes)).toBe('not json');
    expect(out.fetched).toEqual([
      { index: 0, region: 'us-east-1', version: 'v1' },
      { index: 1, region: 'us-east-1', version: 'us-east-1-v' },
    ]);
  });

  it('makes no call for a plan without objects', async () => {
    const source = new FakeSecretSource(found);
    const out = await runMountJob(planOf(''), { source, identity });
    expect(source.calls).toHaveLength(0);
    expect(out).toEqual({ files: [], versions: [], fetched: [] });
  });

  it('rejects a source that breaks the one-result-per-request contract', async () => {
    const source: SecretSource = { fetch: async () => [] };
    const e = await failure(runMountJob(planOf('- objectName: a\n  objectType: ssmparameter\n'), { source, identity }));
    expect(e.code).toBe('INTERNAL');
  });
});

