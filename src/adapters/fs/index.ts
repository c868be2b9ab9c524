/** The filesystem adapters: payload writers, the tmpfs mounter and target-directory helpers. */
export { KubeletAtomicWriter } from './atomic-writer.js';
export type { KubeletAtomicWriterOptions } from './atomic-writer.js';
export { DATA_LINK, isTimestampDirName } from './atomic-layout.js';
export { ProviderFileWriter, MANIFEST_NAME } from './provider-file-writer.js';
export type { ProviderFileWriterOptions } from './provider-file-writer.js';
export { fsOpsKindFor } from './memory-backed.js';
export type { FsOpsChoice } from './memory-backed.js';
export type { FsOpsKind } from './fs-ops.js';
export { validatePayload, validatePayloadPath, validateFlatFileName } from './payload-paths.js';
export { TmpfsMounter } from './tmpfs-mounter.js';
export type { TmpfsMounterOptions } from './tmpfs-mounter.js';
export { InMemoryVolumeMounter } from './in-memory-volume-mounter.js';
export type { RecordedMountCall } from './in-memory-volume-mounter.js';
export { parseMountPoints } from './mountinfo.js';
export { ensureTargetDir, cleanupTarget, readMountedFiles, LocalTargetDirectory } from './target-dir.js';
export type { CleanupTargetOptions, LocalTargetDirectoryOptions } from './target-dir.js';
export type { TargetDirectory, VolumeMounter } from './ports.js';
