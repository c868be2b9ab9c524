import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretletError } from '../../../src/core/errors.js';
import { createProviderClient, startProviderServer } from '../../../src/adapters/grpc/index.js';
import type { ProviderClient, ProviderMountRequest, UdsServer } from '../../../src/adapters/grpc/index.js';
import { FakeMountHandler, blockUntilAborted, deferred, rejectionOf, socketDir, whenAborted } from './fakes.js';

const request: ProviderMountRequest = {
  attributes: '{"csi.storage.k8s.io/pod.name":"web-0","objects":"- objectName: db\\n  objectType: secretsmanager\\n"}',
  secrets: '{"clientid":"abc"}',
  targetPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/secrets/mount',
  permission: '420',
  currentObjectVersion: [
    { id: 'db', version: 'v-old' },
    { id: 'api', version: '3' },
  ],
};

describe('provider door (v1alpha1.CSIDriverProvider over a Unix socket)', () => {
  let dir: { dir: string; cleanup(): Promise<void> };
  let server: UdsServer | undefined;
  let client: ProviderClient | undefined;

  beforeEach(async () => {
    dir = await socketDir();
  });

  afterEach(async () => {
    client?.close();
    client = undefined;
    await server?.stop(0);
    server = undefined;
    await dir.cleanup();
  });

  async function serve(handler: FakeMountHandler): Promise<ProviderClient> {
    const socketPath = `${dir.dir}/aws.sock`;
    server = await startProviderServer(socketPath, { runtimeName: 'secretlet', runtimeVersion: '0.1.0', handler });
    client = createProviderClient(socketPath);
    return client;
  }

  it('answers Version with the protocol version and the configured runtime', async () => {
    const c = await serve(new FakeMountHandler(() => Promise.reject(new Error('not called'))));
    await expect(c.version()).resolves.toEqual({ version: 'v1alpha1', runtimeName: 'secretlet', runtimeVersion: '0.1.0' });
  });

  it('passes every Mount field to the handler and returns its files and versions', async () => {
    const handler = new FakeMountHandler(() =>
      Promise.resolve({
        objectVersion: [{ id: 'db', version: 'v-new' }],
        files: [
          { path: 'db', mode: 0o640, contents: new Uint8Array([0, 1, 2, 255]) },
          { path: 'dir/api.json', mode: 0o400, contents: new TextEncoder().encode('{"k":"v"}') },
          { path: 'empty', mode: 0, contents: new Uint8Array() },
        ],
      }),
    );
    const c = await serve(handler);

    const response = await c.mount(request);

    expect(handler.calls).toEqual([request]);
    expect(response.objectVersion).toEqual([{ id: 'db', version: 'v-new' }]);
    expect(response.files).toEqual([
      { path: 'db', mode: 0o640, contents: new Uint8Array([0, 1, 2, 255]) },
      { path: 'dir/api.json', mode: 0o400, contents: new TextEncoder().encode('{"k":"v"}') },
      { path: 'empty', mode: 0, contents: new Uint8Array() },
    ]);
  });

  it('hands the handler a target path without trailing slashes, so one directory is one target', async () => {
    const handler = new FakeMountHandler(() => Promise.resolve({ objectVersion: [{ id: 'a', version: '1' }], files: [] }));
    const c = await serve(handler);
    await c.mount({ ...request, targetPath: '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/secrets/mount//' });
    await c.mount({ ...request, targetPath: '/' });
    expect(handler.calls.map((r) => r.targetPath)).toEqual(['/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/secrets/mount', '/']);
  });

  it('carries an empty current_object_version (what driver v1.6 sends) as an empty list', async () => {
    const handler = new FakeMountHandler(() => Promise.resolve({ objectVersion: [{ id: 'a', version: '1' }], files: [] }));
    const c = await serve(handler);
    await c.mount({ ...request, currentObjectVersion: [], secrets: 'null' });
    expect(handler.calls[0]).toMatchObject({ currentObjectVersion: [], secrets: 'null' });
  });

  it.each([
    ['INVALID_ARGUMENT', status.INVALID_ARGUMENT, 'objects[0].objectName is missing'],
    ['PERMISSION_DENIED', status.PERMISSION_DENIED, 'AccessDenied on secret db for role app'],
    ['UNAVAILABLE', status.UNAVAILABLE, 'Secrets Manager is unavailable in us-east-1'],
  ] as const)('returns a handler SecretletError %s as that gRPC code with its message', async (code, grpcCode, message) => {
    const c = await serve(new FakeMountHandler(() => Promise.reject(new SecretletError({ code, reason: 'R', message }))));
    expect(await rejectionOf(c.mount(request))).toMatchObject({ code: grpcCode, details: message });
  });

  it('returns a plain Error from the handler as UNKNOWN with its message', async () => {
    const c = await serve(new FakeMountHandler(() => Promise.reject(new Error('disk on fire'))));
    expect(await rejectionOf(c.mount(request))).toMatchObject({ code: status.UNKNOWN, details: 'disk on fire' });
  });

  it('returns an error thrown synchronously by the handler as UNKNOWN too', async () => {
    const c = await serve(
      new FakeMountHandler(() => {
        throw new Error('sync throw');
      }),
    );
    expect(await rejectionOf(c.mount(request))).toMatchObject({ code: status.UNKNOWN, details: 'sync throw' });
  });

  it('aborts the handler signal with CANCELLED when the driver cancels the call', async () => {
    const started = deferred<{ req: ProviderMountRequest; signal: AbortSignal }>();
    const c = await serve(new FakeMountHandler(blockUntilAborted(started)));
    const cancel = new AbortController();

    const call = rejectionOf(c.mount(request, { signal: cancel.signal }));
    const { signal } = await started.promise;
    expect(signal.aborted).toBe(false);
    cancel.abort();

    expect(await call).toMatchObject({ code: status.CANCELLED });
    expect(await whenAborted(signal)).toMatchObject({ code: 'CANCELLED', reason: 'Cancelled' });
  });

  it('aborts the handler signal when the driver deadline passes (client sees DEADLINE_EXCEEDED)', async () => {
    const started = deferred<{ req: ProviderMountRequest; signal: AbortSignal }>();
    const c = await serve(new FakeMountHandler(blockUntilAborted(started)));
    await c.version(); // connect first, so the deadline is spent in the handler, not on connecting

    const call = rejectionOf(c.mount(request, { deadlineMs: 1_500 }));
    const { signal } = await started.promise;

    expect(await call).toMatchObject({ code: status.DEADLINE_EXCEEDED });
    // The driver's reset may beat our own deadline timer under load; call-signal.test.ts pins the labelling.
    expect(await whenAborted(signal)).toBeInstanceOf(SecretletError);
  });

  it('does not abort the signal of a call that has already been answered', async () => {
    let seen: AbortSignal | undefined;
    const c = await serve(
      new FakeMountHandler((_req, signal) => {
        seen = signal;
        return Promise.resolve({ objectVersion: [{ id: 'a', version: '1' }], files: [] });
      }),
    );
    await c.mount(request);
    await c.version(); // another round trip: the first call's stream has closed by now
    expect(seen?.aborted).toBe(false);
  });
});
