/**
 * The mount pipeline renders in the worker pool when it has one: the payload (files, modes,
 * versions) must be byte-for-byte what inline rendering produces, and a render failure must keep
 * its code, reason and field across the thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretletError } from '../../src/core/errors.js';
import type { AwsIdentity, FetchedObject, MountPlan, ObjectRequest } from '../../src/core/model.js';
import type { MountWorker } from '../../src/core/ports/mount-worker.js';
import type { SecretSource } from '../../src/core/ports/secret-source.js';
import type { RenderedPayload } from '../../src/core/render/render-files.js';
import { ok } from '../../src/core/result.js';
import type { Result } from '../../src/core/result.js';
import { parseMountRequest, planMount, identityFor } from '../../src/core/spc/mount-request.js';
import type { PreparedMount } from '../../src/core/usecases/mount-pipeline.js';
import { fetchMount } from '../../src/core/usecases/mount-pipeline.js';
import { PiscinaMountWorker } from '../../src/workers/index.js';
import { OBJECTS } from './shop-objects.js';

const enc = new TextEncoder();
const TOKENS = JSON.stringify({ 'sts.amazonaws.com': { token: 'jwt' } });


const VALUES: Record<string, FetchedObject> = {
  'shop/db': { bytes: enc.encode('{"user":"app","pass":"s3"}'), version: 'v-db' },
  '/shop/url': { bytes: enc.encode('https://x'), version: '4' },
  'shop/cert': { bytes: new Uint8Array([0, 255, 1]), version: 'v-cert' },
  'shop/plain': { bytes: enc.encode('not json'), version: 'v-plain' },
};

/** Answers every request from VALUES. */
class MapSource implements SecretSource {
  fetch(_identity: AwsIdentity, _region: string, requests: readonly ObjectRequest[]): Promise<Array<Result<FetchedObject, SecretletError>>> {
    return Promise.resolve(
      requests.map((r) => {
        const value = VALUES[r.type === 'secretsmanager' ? r.secretId : r.name];
        if (value === undefined) throw new Error('unexpected object');
        return ok(value);
      }),
    );
  }
}

/** Counts the renders it forwards, to show the pipeline really used the worker. */
class CountingWorker implements MountWorker {
  renders = 0;
  constructor(private readonly inner: MountWorker) {}
  start(): Promise<void> {
    return this.inner.start();
  }
  prepare(...args: Parameters<MountWorker['prepare']>): ReturnType<MountWorker['prepare']> {
    return this.inner.prepare(...args);
  }
  render(plan: MountPlan, values: ReadonlyMap<number, FetchedObject>): Promise<RenderedPayload> {
    this.renders += 1;
    return this.inner.render(plan, values);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

function prepared(objects: string): PreparedMount {
  const attributes = JSON.stringify({ 'csi.storage.k8s.io/serviceAccount.tokens': TOKENS, objects, region: 'us-east-1' });
  const parsed = parseMountRequest({ attributes, targetPath: '/t', permission: '420' });
  return { parsed, plan: planMount(parsed, parsed.regionParam), identity: identityFor(parsed) };
}

describe('fetchMount with a worker pool', () => {
  let worker: CountingWorker;
  const source = new MapSource();

  beforeAll(() => {
    worker = new CountingWorker(new PiscinaMountWorker({ threads: 1, maxQueue: 16 }));
  });
  afterAll(async () => {
    await worker.close();
  });

  it('renders in the pool the same files, modes and versions as inline', async () => {
    const mount = prepared(OBJECTS);
    const before = worker.renders;
    const [pooled, inline] = await Promise.all([fetchMount(mount, { source, worker }), fetchMount(mount, { source })]);
    expect(worker.renders).toBe(before + 1);
    const plain = (m: { files: Array<{ path: string; mode: number; contents: Uint8Array }> }) =>
      m.files.map((f) => ({ path: f.path, mode: f.mode, contents: [...f.contents] }));
    expect(plain(pooled)).toEqual(plain(inline));
    expect(pooled.versions).toEqual(inline.versions);
    expect(plain(pooled)).toEqual([
      { path: 'shop_db', mode: 0o644, contents: [...VALUES['shop/db']!.bytes] },
      { path: 'db-user', mode: 0o644, contents: [...enc.encode('app')] },
      { path: 'db-pass', mode: 0o600, contents: [...enc.encode('s3')] },
      { path: 'url', mode: 0o644, contents: [...enc.encode('https://x')] },
      { path: 'shop_cert', mode: 0o400, contents: [0, 255, 1] },
    ]);
  });

  it('keeps a render failure\'s code, reason and field across the thread, as inline', async () => {
    const mount = prepared('- objectName: shop/plain\n  objectType: secretsmanager\n  jmesPath:\n    - path: user\n      objectAlias: u\n');
    const failure = async (p: Promise<unknown>): Promise<SecretletError> => {
      const e: unknown = await p.then(() => undefined, (x: unknown) => x);
      if (!(e instanceof SecretletError)) throw new Error(`expected a SecretletError, got ${String(e)}`);
      return e;
    };
    const [pooled, inline] = await Promise.all([failure(fetchMount(mount, { source, worker })), failure(fetchMount(mount, { source }))]);
    expect({ code: pooled.code, reason: pooled.reason, field: pooled.field }).toEqual({ code: inline.code, reason: inline.reason, field: inline.field });
    expect(pooled.code).toBe('INVALID_ARGUMENT');
    expect(pooled.reason).toBe('JmesPathFailed');
    expect(pooled.field).toContain('objects[0]');
    expect(pooled.message).not.toContain('not json');
  });
});
