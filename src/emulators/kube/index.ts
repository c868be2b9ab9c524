/**
 * Public surface of the local Kubernetes API server emulator (see README.md in this folder).
 */
export { startKubeEmulator } from './emulator.js';
export type { KubeEmulator, KubeEmulatorOptions, MintServiceAccountTokenOptions } from './emulator.js';
export type { KubeObject, ObjectMeta, OwnerReference } from './types.js';
export type { MintedToken, TokenClaims } from './tokens.js';
export type { ThrottleRule } from './throttles.js';
export { API_AUDIENCE } from './tokens.js';
export { CONTEXT_NAME } from './kubeconfig.js';
