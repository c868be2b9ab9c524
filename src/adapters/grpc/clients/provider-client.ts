/**
 * A typed client of the provider door that plays the Secrets Store CSI Driver: used by tests and
 * the benchmark, and usable as the driver-side reference. Connects like the driver does (insecure
 * Unix socket, `:authority` localhost).
 */
import * as grpc from '@grpc/grpc-js';
import { grpcUnixAddress, parseUnixEndpoint } from '../endpoint.js';
import { loadProtoPackage, serviceConstructor } from '../proto-packages.js';
import type { ProviderMountRequest, ProviderMountResponse } from '../provider-service.js';
import { PROVIDER_API_VERSION, PROVIDER_SERVICE_NAME } from '../provider-service.js';
import type { WireMountResponse, WireVersionResponse } from '../wire-types.js';
import { callUnary } from './unary-call.js';
import type { CallOptions } from './unary-call.js';

export interface ProviderVersionInfo {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
}

export interface ProviderClient {
  version(options?: CallOptions): Promise<ProviderVersionInfo>;
  mount(req: ProviderMountRequest, options?: CallOptions): Promise<ProviderMountResponse>;
  close(): void;
}

export interface ProviderClientOptions {
  /** The driver's `--max-call-recv-msg-size`; grpc-js default (4 MiB) when unset. */
  maxReceiveMessageLength?: number;
  /**
   * Use the driver's default service config (driver.md §2.2): wait for ready, and retry UNAVAILABLE
   * up to 3 attempts with 1 s initial backoff. Off by default, so a test sees a failure at once.
   */
  driverServiceConfig?: boolean;
}

/** The upstream driver's default service config for `v1alpha1.CSIDriverProvider` (driver.md §2.2). */
export const DRIVER_SERVICE_CONFIG = JSON.stringify({
  methodConfig: [
    {
      name: [{ service: PROVIDER_SERVICE_NAME }],
      waitForReady: true,
      retryPolicy: { maxAttempts: 3, initialBackoff: '1s', maxBackoff: '10s', backoffMultiplier: 1.1, retryableStatusCodes: ['UNAVAILABLE'] },
    },
  ],
});

export function createProviderClient(socketPath: string, options: ProviderClientOptions = {}): ProviderClient {
  const Client = serviceConstructor(loadProtoPackage('provider'), PROVIDER_SERVICE_NAME);
  const channelOptions: grpc.ChannelOptions = { 'grpc.default_authority': 'localhost' };
  if (options.maxReceiveMessageLength !== undefined) {
    channelOptions['grpc.max_receive_message_length'] = options.maxReceiveMessageLength;
  }
  if (options.driverServiceConfig === true) channelOptions['grpc.service_config'] = DRIVER_SERVICE_CONFIG;
  const client = new Client(grpcUnixAddress(parseUnixEndpoint(socketPath)), grpc.credentials.createInsecure(), channelOptions);
  return {
    async version(callOptions) {
      const res = await callUnary<WireVersionResponse>(client, 'Version', { version: PROVIDER_API_VERSION }, callOptions);
      return { version: res.version, runtimeName: res.runtime_name, runtimeVersion: res.runtime_version };
    },
    async mount(req, callOptions) {
      const res = await callUnary<WireMountResponse>(
        client,
        'Mount',
        {
          attributes: req.attributes,
          secrets: req.secrets,
          target_path: req.targetPath,
          permission: req.permission,
          current_object_version: req.currentObjectVersion.map((v) => ({ id: v.id, version: v.version })),
        },
        callOptions,
      );
      return {
        objectVersion: res.object_version.map((v) => ({ id: v.id, version: v.version })),
        files: res.files.map((f) => ({ path: f.path, mode: f.mode, contents: new Uint8Array(f.contents) })),
      };
    },
    close() {
      client.close();
    },
  };
}
