import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretletError } from '../../../src/core/errors.js';
import { createCsiClient, startCsiServer } from '../../../src/adapters/grpc/index.js';
import type { CsiClient, CsiServiceOptions, KubeletPublishRequest, UdsServer } from '../../../src/adapters/grpc/index.js';
import { FakeVolumeHandler, deferred, rejectionOf, socketDir, whenAborted } from './fakes.js';

const TOKENS = '{"sts.amazonaws.com":{"token":"eyJ.jwt","expirationTimestamp":"2026-01-01T00:00:00Z"}}';

const publish: KubeletPublishRequest = {
  volumeId: 'csi-0123abcd',
  targetPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/secrets/mount',
  volumeContext: {
    secretProviderClass: 'app-secrets',
    'csi.storage.k8s.io/pod.name': 'web-0',
    'csi.storage.k8s.io/pod.namespace': 'default',
    'csi.storage.k8s.io/serviceAccount.tokens': TOKENS,
  },
  secrets: { clientid: 'abc' },
  readonly: true,
  volumeCapability: { mountFlags: ['ro', 'noexec'] },
};

const CONTROLLER_RPCS = [
  'CreateVolume',
  'DeleteVolume',
  'ControllerPublishVolume',
  'ControllerUnpublishVolume',
  'ValidateVolumeCapabilities',
  'ListVolumes',
  'GetCapacity',
  'CreateSnapshot',
  'DeleteSnapshot',
  'ListSnapshots',
  'ControllerExpandVolume',
  'ControllerGetVolume',
];

describe('CSI door (csi.v1 Identity, Controller, Node over a Unix socket)', () => {
  let dir: { dir: string; cleanup(): Promise<void> };
  let server: UdsServer | undefined;
  let client: CsiClient | undefined;
  let handler: FakeVolumeHandler;
  let ready: boolean;

  beforeEach(async () => {
    dir = await socketDir();
    handler = new FakeVolumeHandler();
    ready = true;
  });

  afterEach(async () => {
    client?.close();
    client = undefined;
    await server?.stop(0);
    server = undefined;
    await dir.cleanup();
  });

  async function serve(overrides: Partial<CsiServiceOptions> = {}): Promise<CsiClient> {
    // The upstream default flag form `unix://<path without leading slash>`.
    server = await startCsiServer(`unix://${dir.dir.slice(1)}/csi/csi.sock`, {
      driverName: 'secrets-store.csi.k8s.io',
      vendorVersion: 'v0.1.0',
      nodeId: 'node-a',
      handler,
      isReady: () => ready,
      ...overrides,
    });
    client = createCsiClient(`unix://${server.socketPath}`);
    return client;
  }

  describe('Identity', () => {
    it('reports the driver name and version', async () => {
      const c = await serve();
      await expect(c.getPluginInfo()).resolves.toEqual({ name: 'secrets-store.csi.k8s.io', vendorVersion: 'v0.1.0' });
    });

    it('answers UNAVAILABLE when the name or the version is not configured', async () => {
      const c = await serve({ driverName: '', vendorVersion: '' });
      expect(await rejectionOf(c.getPluginInfo())).toMatchObject({ code: status.UNAVAILABLE, details: 'driver name not configured' });
      await server?.stop(0);
      client?.close();
      const d = await serve({ vendorVersion: '' });
      expect(await rejectionOf(d.getPluginInfo())).toMatchObject({ code: status.UNAVAILABLE, details: 'driver version not configured' });
    });

    it('advertises exactly the CONTROLLER_SERVICE capability', async () => {
      const c = await serve();
      await expect(c.getPluginCapabilities()).resolves.toEqual(['CONTROLLER_SERVICE']);
    });

    it('Probe follows isReady', async () => {
      const c = await serve();
      await expect(c.probe()).resolves.toEqual({ ready: true });
      ready = false;
      await expect(c.probe()).resolves.toEqual({ ready: false });
      ready = true;
      await expect(c.probe()).resolves.toEqual({ ready: true });
    });
  });

  describe('Controller', () => {
    it('answers every RPC with UNIMPLEMENTED and an empty message', async () => {
      const c = await serve();
      for (const rpc of CONTROLLER_RPCS) {
        expect(await rejectionOf(c.call('Controller', rpc, {})), rpc).toMatchObject({ code: status.UNIMPLEMENTED, details: '' });
      }
    });

    it('lists one RPC capability of type UNKNOWN', async () => {
      const c = await serve();
      await expect(c.call('Controller', 'ControllerGetCapabilities', {})).resolves.toMatchObject({
        capabilities: [{ rpc: { type: 'UNKNOWN' } }],
      });
    });
  });

  describe('NodePublishVolume', () => {
    it('passes the request to the handler', async () => {
      const c = await serve();
      await c.nodePublish({ ...publish, readonly: false });
      expect(handler.published).toEqual([
        {
          volumeId: 'csi-0123abcd',
          targetPath: publish.targetPath,
          volumeContext: publish.volumeContext,
          secrets: { clientid: 'abc' },
          readonly: false,
          mountFlags: ['ro', 'noexec'],
        },
      ]);
    });

    it('runs the upstream checks in order; the first failing one is the error', async () => {
      const c = await serve();
      const cases: [KubeletPublishRequest, string][] = [
        [{ volumeId: '', targetPath: '', volumeContext: {}, volumeCapability: null }, 'Volume capability missing in request'],
        [{ volumeId: '', targetPath: '', volumeContext: {} }, 'Volume ID missing in request'],
        [{ ...publish, targetPath: '', volumeContext: {} }, 'Target path missing in request'],
        [{ ...publish, volumeContext: {} }, 'Volume attributes missing in request'],
      ];
      for (const [req, message] of cases) {
        expect(await rejectionOf(c.nodePublish(req)), message).toMatchObject({ code: status.INVALID_ARGUMENT, details: message });
      }
      expect(handler.published).toEqual([]);
    });

    it.each([
      ['INVALID_ARGUMENT', status.INVALID_ARGUMENT],
      ['PERMISSION_DENIED', status.PERMISSION_DENIED],
      ['UNAVAILABLE', status.UNAVAILABLE],
    ] as const)('returns a handler SecretletError %s as that code with its message', async (code, grpcCode) => {
      handler.onPublish = () =>
        Promise.reject(new SecretletError({ code, reason: 'R', message: 'failed to mount secrets store objects for pod default/web-0' }));
      const c = await serve();
      expect(await rejectionOf(c.nodePublish(publish))).toMatchObject({
        code: grpcCode,
        details: 'failed to mount secrets store objects for pod default/web-0',
      });
    });

    it('returns a plain Error from the handler as UNKNOWN', async () => {
      handler.onPublish = () => Promise.reject(new Error('mount: permission denied'));
      const c = await serve();
      expect(await rejectionOf(c.nodePublish(publish))).toMatchObject({ code: status.UNKNOWN, details: 'mount: permission denied' });
    });

    it("aborts the handler signal when kubelet's deadline passes", async () => {
      const started = deferred<AbortSignal>();
      handler.onPublish = async (_req, signal) => {
        started.resolve(signal);
        throw await whenAborted(signal);
      };
      const c = await serve();
      await c.nodeGetInfo(); // connect first

      const call = rejectionOf(c.nodePublish(publish, { deadlineMs: 1_500 }));
      const signal = await started.promise;
      expect(await call).toMatchObject({ code: status.DEADLINE_EXCEEDED });
      // kubelet's reset may beat our own deadline timer under load; call-signal.test.ts pins the labelling.
      expect(await whenAborted(signal)).toBeInstanceOf(SecretletError);
    });
  });

  describe('NodeUnpublishVolume', () => {
    it('checks the volume id, then the target path, then calls the handler', async () => {
      const c = await serve();
      expect(await rejectionOf(c.nodeUnpublish({ volumeId: '', targetPath: '' }))).toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: 'Volume ID missing in request',
      });
      expect(await rejectionOf(c.nodeUnpublish({ volumeId: 'v', targetPath: '' }))).toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: 'Target path missing in request',
      });
      expect(handler.unpublished).toEqual([]);

      await c.nodeUnpublish({ volumeId: 'v', targetPath: '/t' });
      expect(handler.unpublished).toEqual([{ volumeId: 'v', targetPath: '/t' }]);
    });

    it('aborts the handler signal when kubelet cancels', async () => {
      const started = deferred<AbortSignal>();
      handler.onUnpublish = async (_req, signal) => {
        started.resolve(signal);
        throw await whenAborted(signal);
      };
      const c = await serve();
      const cancel = new AbortController();
      const call = rejectionOf(c.nodeUnpublish({ volumeId: 'v', targetPath: '/t' }, { signal: cancel.signal }));
      const signal = await started.promise;
      cancel.abort();
      expect(await call).toMatchObject({ code: status.CANCELLED });
      expect(await whenAborted(signal)).toMatchObject({ code: 'CANCELLED' });
    });
  });

  describe('other Node RPCs', () => {
    it('NodeStageVolume validates id, staging path, capability (in that order) and then succeeds', async () => {
      const c = await serve();
      const capability = { mount: { fs_type: '', mount_flags: [] }, access_mode: { mode: 'SINGLE_NODE_WRITER' } };
      const cases: [object, string][] = [
        [{ volume_id: '', staging_target_path: '' }, 'Volume ID missing in request'],
        [{ volume_id: 'v', staging_target_path: '' }, 'Target path missing in request'],
        [{ volume_id: 'v', staging_target_path: '/s' }, 'Volume capability missing in request'],
      ];
      for (const [req, message] of cases) {
        expect(await rejectionOf(c.call('Node', 'NodeStageVolume', req)), message).toMatchObject({
          code: status.INVALID_ARGUMENT,
          details: message,
        });
      }
      await expect(
        c.call('Node', 'NodeStageVolume', { volume_id: 'v', staging_target_path: '/s', volume_capability: capability }),
      ).resolves.toEqual({});
    });

    it('NodeUnstageVolume validates id and staging path and then succeeds', async () => {
      const c = await serve();
      expect(await rejectionOf(c.call('Node', 'NodeUnstageVolume', { volume_id: 'v' }))).toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: 'Target path missing in request',
      });
      await expect(c.call('Node', 'NodeUnstageVolume', { volume_id: 'v', staging_target_path: '/s' })).resolves.toEqual({});
    });

    it('advertises STAGE_UNSTAGE_VOLUME and reports the node id', async () => {
      const c = await serve();
      await expect(c.nodeGetCapabilities()).resolves.toEqual(['STAGE_UNSTAGE_VOLUME']);
      await expect(c.nodeGetInfo()).resolves.toEqual({ nodeId: 'node-a' });
    });

    it('answers NodeExpandVolume and NodeGetVolumeStats with UNIMPLEMENTED', async () => {
      const c = await serve();
      expect(await rejectionOf(c.call('Node', 'NodeExpandVolume', { volume_id: 'v' }))).toMatchObject({
        code: status.UNIMPLEMENTED,
        details: 'NodeExpandVolume is not implemented',
      });
      expect(await rejectionOf(c.call('Node', 'NodeGetVolumeStats', { volume_id: 'v' }))).toMatchObject({
        code: status.UNIMPLEMENTED,
        details: '',
      });
    });
  });
});
