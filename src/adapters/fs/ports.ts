/**
 * The port the filesystem adapters implement for mounting. It is defined in the core (the kubelet
 * door's use case depends on it) and re-exported here by name so adapter users find it next to
 * its implementations, TmpfsMounter and InMemoryVolumeMounter.
 */
export type { PublishUndo, TargetDirectory, VolumeMounter } from '../../core/ports/volume-mounter.js';
