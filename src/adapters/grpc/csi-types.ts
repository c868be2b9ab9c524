/**
 * The port behind the CSI door and its plain-data requests. Kubelet's NodePublishVolume and
 * NodeUnpublishVolume reach the handler only after the upstream driver's input checks have passed
 * (csi-node-validation.ts), with camelCase fields and an AbortSignal that follows kubelet's call.
 */
import type { SecretletError } from '../../core/errors.js';

export interface NodePublishRequest {
  /** `csi-<sha256>` for inline volumes; only checked to be non-empty. */
  volumeId: string;
  /** `/var/lib/kubelet/pods/<podUID>/volumes/kubernetes.io~csi/<volume>/mount`. */
  targetPath: string;
  /** Pod `volumeAttributes` plus kubelet's `csi.storage.k8s.io/*` keys (may hold tokens). */
  volumeContext: Record<string, string>;
  /** nodePublishSecretRef data (and tokens with serviceAccountTokenInSecrets). Never log it. */
  secrets: Record<string, string>;
  readonly: boolean;
  /** From `volume_capability.mount.mount_flags`; empty for block or absent. */
  mountFlags: string[];
}

export interface NodeUnpublishRequest {
  volumeId: string;
  targetPath: string;
}

export interface NodeVolumeHandler {
  publish(req: NodePublishRequest, signal: AbortSignal): Promise<void>;
  /** A NodePublishVolume refused by the door's own checks, before `publish` (counted as upstream counts it). */
  publishRejected?(error: SecretletError, req: NodePublishRequest): void;
  /** Told about an unpublish refused by the upstream input checks, before it is answered. */
  unpublishRejected?(error: SecretletError, req: { volumeId: string; targetPath: string }): void;
  unpublish(req: NodeUnpublishRequest, signal: AbortSignal): Promise<void>;
}

export interface CsiServiceOptions {
  /** GetPluginInfo name (`secrets-store.csi.k8s.io` for drop-in use); empty → GetPluginInfo answers UNAVAILABLE. */
  driverName: string;
  vendorVersion: string;
  /** NodeGetInfo node_id: the Kubernetes node name. */
  nodeId: string;
  handler: NodeVolumeHandler;
  /** Probe's `ready`; the livenessprobe sidecar calls it. */
  isReady: () => boolean;
}
