/**
 * `csi.v1.Identity` as the upstream driver answers it: name and version (UNAVAILABLE when either is
 * not configured), one CONTROLLER_SERVICE capability (advertised upstream although no controller
 * runs; kept for identical behaviour towards sidecars), and Probe reporting our readiness.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { SecretletError } from '../../core/errors.js';
import type { CsiServiceOptions } from './csi-types.js';
import { unaryHandler } from './unary-handler.js';
import type { Empty, WireGetPluginCapabilitiesResponse, WireGetPluginInfoResponse, WireProbeResponse } from './wire-types.js';

export function identityImplementation(
  options: Pick<CsiServiceOptions, 'driverName' | 'vendorVersion' | 'isReady'>,
): UntypedServiceImplementation {
  return {
    GetPluginInfo: unaryHandler<Empty, WireGetPluginInfoResponse>(() => {
      if (options.driverName === '') throw notConfigured('driver name not configured', 'driverName');
      if (options.vendorVersion === '') throw notConfigured('driver version not configured', 'vendorVersion');
      return { name: options.driverName, vendor_version: options.vendorVersion, manifest: {} };
    }),
    GetPluginCapabilities: unaryHandler<Empty, WireGetPluginCapabilitiesResponse>(() => ({
      capabilities: [{ service: { type: 'CONTROLLER_SERVICE' } }],
    })),
    Probe: unaryHandler<Empty, WireProbeResponse>(() => ({ ready: { value: options.isReady() } })),
  };
}

function notConfigured(message: string, field: string): SecretletError {
  return new SecretletError({ code: 'UNAVAILABLE', reason: 'NotConfigured', message, field });
}
