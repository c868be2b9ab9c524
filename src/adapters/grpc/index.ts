/**
 * The two gRPC front doors of secretlet: the CSI door (csi.v1, for kubelet) and the provider door
 * (v1alpha1.CSIDriverProvider, for an unmodified Secrets Store CSI Driver). Both translate the wire
 * into a small handler port and errors back through one toGrpcStatus. The clients play kubelet and
 * the driver for tests and benchmarks.
 */
export { startProviderServer, PROVIDER_API_VERSION } from './provider-service.js';
export type {
  ProviderMountHandler,
  ProviderMountRequest,
  ProviderMountResponse,
  ProviderServiceOptions,
} from './provider-service.js';
export { startCsiServer, sanitizePublishRequest } from './csi-service.js';
export type {
  CsiServiceOptions,
  NodePublishRequest,
  NodeUnpublishRequest,
  NodeVolumeHandler,
  SanitizedPublishRequest,
} from './csi-service.js';
export type { UdsServer } from './uds-server.js';
export { toGrpcStatus } from './status.js';
export type { GrpcStatus } from './status.js';
export { parseUnixEndpoint } from './endpoint.js';
export { createProviderClient } from './clients/provider-client.js';
export type { ProviderClient, ProviderClientOptions, ProviderVersionInfo } from './clients/provider-client.js';
export { createCsiClient } from './clients/csi-client.js';
export type { CsiClient, CsiServiceName, KubeletPublishRequest, KubeletUnpublishRequest } from './clients/csi-client.js';
export type { CallOptions } from './clients/unary-call.js';
