/** Public surface of the manifests generator, re-exported by name (the CLI imports from here). */
export { renderManifests, toYaml, findPackageRoot } from './render-manifests.js';
export { isPinnedImage } from './manifest-options.js';
export type { ManifestOptions, ManifestMode, ManifestLogLevel, ResourceRequirements, Toleration } from './manifest-options.js';
export type { KubeObject, KubeObjectMetadata } from './kube-object.js';
