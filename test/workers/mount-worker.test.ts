import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretletError } from '../../src/core/errors.js';
import type { FetchedObject } from '../../src/core/model.js';
import type { PlannedMount } from '../../src/core/ports/mount-worker.js';
import type { MountRequestInput } from '../../src/core/spc/mount-request.js';
import { InlineMountWorker, PiscinaMountWorker } from '../../src/workers/index.js';
import { OBJECTS } from './shop-objects.js';

const tokens = JSON.stringify({ 'sts.amazonaws.com': { token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', expirationTimestamp: '2030-01-01T00:00:00Z' } });

function input(objects: string, extra: Record<string, string> = {}): MountRequestInput {
  return {
    attributes: JSON.stringify({
      'csi.storage.k8s.io/pod.name': 'web-0',
      'csi.storage.k8s.io/pod.namespace': 'shop',
      'csi.storage.k8s.io/pod.uid': 'uid-1',
      'csi.storage.k8s.io/serviceAccount.name': 'web',
      'csi.storage.k8s.io/serviceAccount.tokens': tokens,
      objects,
      ...extra,
    }),
    targetPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/secrets/mount',
    permission: '420',
  };
}


function values(): Map<number, FetchedObject> {
  const enc = new TextEncoder();
  return new Map([
    [0, { bytes: enc.encode('{"user":"app","pass":"s3"}'), version: 'v-db' }],
    [1, { bytes: enc.encode('https://x'), version: '4' }],
    [2, { bytes: new Uint8Array([0, 255, 1]), version: 'v-cert' }],
  ]);
}

async function planned(worker: InlineMountWorker | PiscinaMountWorker, req: MountRequestInput, region?: string): Promise<PlannedMount> {
  const out = await worker.prepare(req, region);
  if (out.kind !== 'planned') throw new Error(`expected a plan, got ${out.kind}`);
  return out.mount;
}

describe('mount worker: inline runner and a real piscina pool (1 thread)', () => {
  const inline = new InlineMountWorker();
  let pool: PiscinaMountWorker;

  beforeAll(() => {
    pool = new PiscinaMountWorker({ threads: 1, maxQueue: 16 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('plans the same mount and renders the same files and versions in a thread as inline', async () => {
    const req = input(OBJECTS, { region: 'eu-west-1' });
    const [a, b] = await Promise.all([planned(inline, req), planned(pool, req)]);
    expect(b).toEqual(a);
    expect(b.plan.regions).toEqual(['eu-west-1']);
    expect(b.plan.objects.map((o) => o.fileName)).toEqual(['shop_db', 'url', 'shop_cert']);

    const [ra, rb] = await Promise.all([inline.render(a.plan, values()), pool.render(b.plan, values())]);
    expect(rb).toEqual(ra);
    const byPath = Object.fromEntries(rb.files.map((f) => [f.path, { mode: f.mode, text: Buffer.from(f.contents).toString('latin1') }]));
    expect(byPath['db-user']).toEqual({ mode: 0o644, text: 'app' });
    expect(byPath['db-pass']).toEqual({ mode: 0o600, text: 's3' });
    expect(byPath['shop_cert']).toEqual({ mode: 0o400, text: '\u0000\u00ff\u0001' });
    expect(rb.versions).toContainEqual({ id: 'db-pass', version: 'v-db' });
  });

  it('asks for the primary region when the request names none, and plans with the one given', async () => {
    const req = input(OBJECTS);
    const first = await pool.prepare(req);
    expect(first).toEqual({ kind: 'needsRegion', pod: { namespace: 'shop', name: 'web-0', uid: 'uid-1', serviceAccount: 'web' } });
    const second = await planned(pool, req, 'ap-south-1');
    expect(second.plan.regions).toEqual(['ap-south-1']);
  });

  it("looks the region up before it reads usePodIdentity, as ASCP does: the node's region error comes first", async () => {
    const req = input(OBJECTS, { usePodIdentity: 'maybe', failoverRegion: 'ap-south-1' });
    expect(await inline.prepare(req)).toMatchObject({ kind: 'needsRegion' });
    await expect(inline.prepare(req, 'ap-south-1')).rejects.toMatchObject({ field: 'failoverRegion', message: 'ap-south-1: failover region cannot be the same as the primary region' });
    await expect(inline.prepare(req, 'eu-west-1')).rejects.toMatchObject({ field: 'usePodIdentity' });
  });

  it('keeps an INVALID_ARGUMENT error with its reason and field across the thread boundary', async () => {
    const bad = input('- objectName: shop/db\n  objectType: secretsmanager\n- objectType: ssmparameter\n', { region: 'us-east-1' });
    const [fromInline, fromPool] = await Promise.all([inline.prepare(bad).catch((e: unknown) => e), pool.prepare(bad).catch((e: unknown) => e)]);
    expect(fromPool).toBeInstanceOf(SecretletError);
    const e = fromPool as SecretletError;
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.field).toMatch(/^objects\[1\]/);
    expect({ code: e.code, reason: e.reason, field: e.field, message: e.message }).toEqual({
      code: (fromInline as SecretletError).code,
      reason: (fromInline as SecretletError).reason,
      field: (fromInline as SecretletError).field,
      message: (fromInline as SecretletError).message,
    });
  });

  it('reports a render with a missing value as INTERNAL naming the object', async () => {
    const m = await planned(pool, input(OBJECTS, { region: 'us-east-1' }));
    const partial = values();
    partial.delete(1);
    await expect(pool.render(m.plan, partial)).rejects.toMatchObject({ code: 'INTERNAL', field: 'objects[1]' });
  });

  it('answers a mount beyond the queue bound RESOURCE_EXHAUSTED (a retryable overload) and still runs the others', async () => {
    const w = new PiscinaMountWorker({ threads: 1, maxQueue: 2 });
    try {
      const req = input(OBJECTS, { region: 'us-east-1' });
      await planned(w, req); // the thread is up
      // Submitted at once: one runs, two wait, the rest find the queue full.
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, () =>
          w.prepare(req).then(
            (out) => out.kind,
            (e: SecretletError) => `${e.code} ${e.reason}: ${e.message}`,
          ),
        ),
      );
      const refused = outcomes.filter((o) => o !== 'planned');
      expect(refused.length).toBeGreaterThan(0);
      expect(new Set(refused)).toEqual(new Set(['RESOURCE_EXHAUSTED WorkerQueueFull: mount worker queue is full; retry later']));
      expect(outcomes.filter((o) => o === 'planned').length).toBeGreaterThanOrEqual(3);
    } finally {
      await w.close();
    }
  });

  it('refuses work after close with UNAVAILABLE', async () => {
    const w = new PiscinaMountWorker({ threads: 1, maxQueue: 4 });
    await w.close();
    await expect(w.prepare(input(OBJECTS, { region: 'us-east-1' }))).rejects.toMatchObject({ code: 'UNAVAILABLE', reason: 'WorkerClosed' });
  });
});
