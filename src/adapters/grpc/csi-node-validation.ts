/**
 * The input checks the upstream driver runs before doing anything for a Node RPC, with its codes,
 * messages and order (the first failing check is the error kubelet reports in the pod's events).
 * Pure functions over the wire request: they return the error instead of throwing so callers and
 * tests can see exactly which check failed. One check is ours, after upstream's: the target path's
 * form (targetPathProblem).
 */
import { invalidArgument } from '../../core/errors.js';
import type { SecretletError } from '../../core/errors.js';
import { targetPathProblem } from '../../core/spc/target-path.js';
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
