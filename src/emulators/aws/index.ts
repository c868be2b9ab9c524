/**
 * The local AWS endpoint emulator: Secrets Manager, SSM Parameter Store, STS and the EKS Pod
 * Identity agent on one loopback HTTP server, speaking the real wire protocols so unmodified AWS
 * SDK clients work against it with only `endpoint` set. Public surface, re-exported by name.
 */
export { startAwsEmulator, DEFAULT_ACCOUNT_ID } from './server.js';
export { loadSeed } from './seed.js';
export { AWS_DEFAULT_QUOTAS } from './rate-limit.js';
export { DEFAULT_ADMIN_CREDENTIALS } from './credentials.js';
export { POD_IDENTITY_AUDIENCE } from './pod-identity.js';
export { STS_AUDIENCE } from './sts.js';
export type {
  AwsEmulator,
  AwsEmulatorOptions,
  AwsSeed,
  CallCounters,
  CallFilter,
  CallOutcome,
  FaultInjector,
  FaultKind,
  FaultSpec,
  ParameterType,
  PodIdentityAssociation,
  RolePermissions,
  RoleSpec,
  RoleTrust,
  SeedParameter,
  SeedSecret,
  SeedSecretVersion,
  TrustedIssuer,
  TrustedIssuerByUri,
} from './types.js';
