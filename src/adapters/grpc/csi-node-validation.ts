/**
 * The input checks the upstream driver runs before doing anything for a Node RPC, with its codes,
 * messages and order (the first failing check is the error kubelet reports in the pod's events).
 * Pure functions over the wire request: they return the error instead of throwing so callers and
 * tests can see exactly which check failed. One check is ours, after upstream's: the target path's
 * form (targetPathProblem).
 */
import { posix } from 'node:path';
import { invalidArgument } from '../../core/errors.js';
import type { SecretletError } from '../../core/errors.js';
import type {
  WireNodePublishVolumeRequest,
  WireNodeStageVolumeRequest,
  WireNodeUnpublishVolumeRequest,
  WireNodeUnstageVolumeRequest,
} from './wire-types.js';

const missingCapability = (): SecretletError =>
  invalidArgument('MissingVolumeCapability', 'Volume capability missing in request', 'volume_capability');
const missingVolumeId = (): SecretletError => invalidArgument('MissingVolumeId', 'Volume ID missing in request', 'volume_id');
const missingTargetPath = (field: string): SecretletError =>
  invalidArgument('MissingTargetPath', 'Target path missing in request', field);
const missingAttributes = (): SecretletError =>
  invalidArgument('MissingVolumeAttributes', 'Volume attributes missing in request', 'volume_context');

/**
 * A target path that is not absolute and normalized (one trailing slash allowed). Kubelet always
 * sends `/var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~csi/<name>/mount` (or under its custom
 * root dir), so this refuses only other callers on the socket: the agent mounts over and `rm -rf`s
 * this path as root, and `/tmp/x/../victim` or a path relative to the agent's working directory
 * would aim that at an arbitrary host directory, or at one other than the caller claims. No root is
 * imposed: kubelet's root dir is configurable. Upstream has no such check.
 */
function targetPathProblem(path: string): SecretletError | undefined {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  // normalize() removes `.`, `..` and empty segments of an absolute path, so any of them shows as a
  // difference; it keeps a trailing slash, so a second one (`/a//`) is refused on its own.
  // The root itself is never a volume: mounting over it or emptying it would take the host with it.
  const normal = trimmed !== '/' && posix.normalize(trimmed) === trimmed && !trimmed.endsWith('/');
  if (trimmed.startsWith('/') && normal && !trimmed.split('/').includes('..')) return undefined;
  return invalidArgument(
    'InvalidTargetPath',
    `target_path must be an absolute path below / in normal form (no '.', '..' or empty segments), got ${JSON.stringify(path)}`,
    'target_path',
  );
}

/** Capability, then volume id, then target path, then volume context (upstream order), then the target path's form. */
export function checkNodePublish(req: WireNodePublishVolumeRequest): SecretletError | undefined {
  if (req.volume_capability == null) return missingCapability();
  if (req.volume_id === '') return missingVolumeId();
  if (req.target_path === '') return missingTargetPath('target_path');
  if (Object.keys(req.volume_context).length === 0) return missingAttributes();
  return targetPathProblem(req.target_path);
}

/** Volume id, then target path (upstream order), then the target path's form. */
export function checkNodeUnpublish(req: WireNodeUnpublishVolumeRequest): SecretletError | undefined {
  if (req.volume_id === '') return missingVolumeId();
  if (req.target_path === '') return missingTargetPath('target_path');
  return targetPathProblem(req.target_path);
}

/** Stage checks the id first and the capability last, unlike publish (upstream order). */
export function checkNodeStage(req: WireNodeStageVolumeRequest): SecretletError | undefined {
  if (req.volume_id === '') return missingVolumeId();
  if (req.staging_target_path === '') return missingTargetPath('staging_target_path');
  if (req.volume_capability == null) return missingCapability();
  return undefined;
}

export function checkNodeUnstage(req: WireNodeUnstageVolumeRequest): SecretletError | undefined {
  if (req.volume_id === '') return missingVolumeId();
  if (req.staging_target_path === '') return missingTargetPath('staging_target_path');
  return undefined;
}
