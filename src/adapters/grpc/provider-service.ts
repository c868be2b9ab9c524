/**
 * The provider door: `v1alpha1.CSIDriverProvider`, the service an unmodified Secrets Store CSI
 * Driver calls on `<provider-dir>/aws.sock`. This module only translates between the wire and the
 * ProviderMountHandler port (plain camelCase data, an AbortSignal that follows the call); what a
 * mount does is the handler's business. Nothing here logs: the request carries `secrets`, the
 * attributes carry pod tokens, and the response carries secret bytes.
 */
import type { ObjectVersion, RenderedFile } from '../../core/model.js';
import { loadProtoPackage, serviceConstructor } from './proto-packages.js';
import { unaryHandler } from './unary-handler.js';
import { startUdsServer } from './uds-server.js';
import type { UdsServer } from './uds-server.js';
import type {
  WireMountRequest,
  WireMountResponse,
  WireVersionRequest,
  WireVersionResponse,
} from './wire-types.js';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';

export interface ProviderMountRequest {
  /** JSON object: SPC parameters merged with the volume context (contains pod tokens). */
  attributes: string;
  /** JSON of nodePublishSecretRef data, or `null`. Never log it. */
  secrets: string;
  targetPath: string;
  /** JSON number, the default file mode in decimal ("420"). */
  permission: string;
  currentObjectVersion: ObjectVersion[];
}

export interface ProviderMountResponse {
  objectVersion: ObjectVersion[];
  files: RenderedFile[];
}

/** The port behind the door. `signal` aborts when the driver's deadline passes or it cancels. */
export interface ProviderMountHandler {
  mount(req: ProviderMountRequest, signal: AbortSignal): Promise<ProviderMountResponse>;
}

export interface ProviderServiceOptions {
  /** VersionResponse.runtime_name, e.g. `secrets-store-csi-driver-provider-aws` for drop-in use. */
  runtimeName: string;
  runtimeVersion: string;
  handler: ProviderMountHandler;
}

/** The only protocol version the driver speaks. */
export const PROVIDER_API_VERSION = 'v1alpha1';

export const PROVIDER_SERVICE_NAME = 'v1alpha1.CSIDriverProvider';

export function providerServiceImplementation(options: ProviderServiceOptions): UntypedServiceImplementation {
  return {
    Version: unaryHandler<WireVersionRequest, WireVersionResponse>(() => ({
      version: PROVIDER_API_VERSION,
      runtime_name: options.runtimeName,
      runtime_version: options.runtimeVersion,
    })),
    Mount: unaryHandler<WireMountRequest, WireMountResponse>(async (request, signal) =>
      toWireMountResponse(await options.handler.mount(fromWireMountRequest(request), signal)),
    ),
  };
}

/** Serves the provider door on a Unix socket (a path or `unix://` URL); see UdsServer.stop. */
export async function startProviderServer(socketPath: string, options: ProviderServiceOptions): Promise<UdsServer> {
  const service = serviceConstructor(loadProtoPackage('provider'), PROVIDER_SERVICE_NAME).service;
  return startUdsServer({
    endpoint: socketPath,
    register: (server) => server.addService(service, providerServiceImplementation(options)),
  });
}

/**
 * `/a/b/` and `/a/b` are one target to the file system; without this the agent would key, lock and
 * mark them as two (a second live entry, a rotation beside a publish). kubelet never sends the
 * slash, a hand-written driver call might.
 */
function withoutTrailingSlashes(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' && path !== '' ? '/' : trimmed;
}

export function fromWireMountRequest(wire: WireMountRequest): ProviderMountRequest {
  return {
    attributes: wire.attributes,
    secrets: wire.secrets,
    targetPath: withoutTrailingSlashes(wire.target_path),
    permission: wire.permission,
    currentObjectVersion: wire.current_object_version.map((v) => ({ id: v.id, version: v.version })),
  };
}

export function toWireMountResponse(response: ProviderMountResponse): WireMountResponse {
  return {
    object_version: response.objectVersion.map((v) => ({ id: v.id, version: v.version })),
    error: null,
    files: response.files.map((f) => ({ path: f.path, mode: f.mode, contents: f.contents })),
  };
}
