/**
 * A typed client of the CSI door that plays kubelet and its sidecars: used by tests and the
 * benchmark. `call()` reaches any RPC of the three services with a raw wire request, for the
 * cases kubelet never produces (a missing capability, Controller RPCs).
 */
import * as grpc from '@grpc/grpc-js';
import { grpcUnixAddress, parseUnixEndpoint } from '../endpoint.js';
import { loadProtoPackage, serviceConstructor } from '../proto-packages.js';
import type {
  WireGetPluginInfoResponse,
  WireNodeGetInfoResponse,
  WireProbeResponse,
  WireRpcCapabilities,
  WireVolumeCapability,
} from '../wire-types.js';
import { callUnary } from './unary-call.js';
import type { CallOptions } from './unary-call.js';

export type CsiServiceName = 'Identity' | 'Controller' | 'Node';

/** A NodePublishVolume as kubelet sends it for an inline volume; defaults fill the rest. */
export interface KubeletPublishRequest {
  volumeId: string;
  targetPath: string;
  volumeContext?: Record<string, string>;
  secrets?: Record<string, string>;
  /** Default true (secrets-store volumes must be `readOnly: true`). */
  readonly?: boolean;
  /** Default: a mount capability with these flags. `null` sends no capability at all. */
  volumeCapability?: { mountFlags?: string[] } | null;
}

export interface KubeletUnpublishRequest {
  volumeId: string;
  targetPath: string;
}

export interface CsiClient {
  getPluginInfo(): Promise<{ name: string; vendorVersion: string }>;
  getPluginCapabilities(): Promise<string[]>;
  /** `ready` is undefined when the plugin leaves the BoolValue unset. */
  probe(): Promise<{ ready: boolean | undefined }>;
  nodePublish(req: KubeletPublishRequest, options?: CallOptions): Promise<void>;
  nodeUnpublish(req: KubeletUnpublishRequest, options?: CallOptions): Promise<void>;
  nodeGetInfo(): Promise<{ nodeId: string }>;
  /** The RPC capability type names, e.g. `['STAGE_UNSTAGE_VOLUME']`. */
  nodeGetCapabilities(): Promise<string[]>;
  /** Any RPC of csi.v1 with a raw (snake_case) request; resolves with the raw response. */
  call(service: CsiServiceName, method: string, request: object, options?: CallOptions): Promise<unknown>;
  close(): void;
}

export function createCsiClient(endpoint: string): CsiClient {
  const root = loadProtoPackage('csi');
  const address = grpcUnixAddress(parseUnixEndpoint(endpoint));
  const credentials = grpc.credentials.createInsecure();
  const identity = new (serviceConstructor(root, 'csi.v1.Identity'))(address, credentials);
  // Share the first client's channel so one socket connection carries all three services.
  const channelOverride = { channelOverride: identity.getChannel() };
  const clients: Record<CsiServiceName, grpc.Client> = {
    Identity: identity,
    Controller: new (serviceConstructor(root, 'csi.v1.Controller'))(address, credentials, channelOverride),
    Node: new (serviceConstructor(root, 'csi.v1.Node'))(address, credentials, channelOverride),
  };

  return {
    async getPluginInfo() {
      const res = await callUnary<WireGetPluginInfoResponse>(clients.Identity, 'GetPluginInfo', {});
      return { name: res.name, vendorVersion: res.vendor_version };
    },
    async getPluginCapabilities() {
      const res = await callUnary<{ capabilities: { service?: { type: string } | null }[] }>(
        clients.Identity,
        'GetPluginCapabilities',
        {},
      );
      return res.capabilities.flatMap((c) => (c.service ? [c.service.type] : []));
    },
    async probe() {
      const res = await callUnary<WireProbeResponse>(clients.Identity, 'Probe', {});
      return { ready: res.ready?.value };
    },
    async nodePublish(req, options) {
      await callUnary(clients.Node, 'NodePublishVolume', toWirePublish(req), options);
    },
    async nodeUnpublish(req, options) {
      await callUnary(clients.Node, 'NodeUnpublishVolume', { volume_id: req.volumeId, target_path: req.targetPath }, options);
    },
    async nodeGetInfo() {
      const res = await callUnary<WireNodeGetInfoResponse>(clients.Node, 'NodeGetInfo', {});
      return { nodeId: res.node_id };
    },
    async nodeGetCapabilities() {
      const res = await callUnary<WireRpcCapabilities>(clients.Node, 'NodeGetCapabilities', {});
      return res.capabilities.flatMap((c) => (c.rpc ? [c.rpc.type] : []));
    },
    call(service, method, request, options) {
      return callUnary<unknown>(clients[service], method, request, options);
    },
    close() {
      // The three clients share the Identity client's channel; closing it closes the connection.
      clients.Identity.close();
    },
  };
}

function toWirePublish(req: KubeletPublishRequest): object {
  const capability: WireVolumeCapability | null =
    req.volumeCapability === null
      ? null
      : {
          mount: { fs_type: '', mount_flags: req.volumeCapability?.mountFlags ?? [], volume_mount_group: '' },
          access_mode: { mode: 'SINGLE_NODE_WRITER' },
        };
  return {
    volume_id: req.volumeId,
    target_path: req.targetPath,
    volume_capability: capability,
    readonly: req.readonly ?? true,
    secrets: req.secrets ?? {},
    volume_context: req.volumeContext ?? {},
  };
}
