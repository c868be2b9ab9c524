/**
 * The messages of proto/csi.proto and proto/provider.proto as proto-loader presents them with our
 * options (see proto-packages.ts): snake_case names, enums as their names, int64 as strings,
 * defaults filled in, unset message fields as null. Only the messages the doors read or write are
 * typed; the Controller's messages are never read (every RPC but one is Unimplemented).
 */

// ------------------------------------------------------------------ v1alpha1 (driver → provider)

export interface WireObjectVersion {
  id: string;
  version: string;
}

export interface WireFile {
  path: string;
  mode: number;
  contents: Uint8Array;
}

export interface WireVersionRequest {
  version: string;
}

export interface WireVersionResponse {
  version: string;
  runtime_name: string;
  runtime_version: string;
}

export interface WireMountRequest {
  attributes: string;
  secrets: string;
  target_path: string;
  permission: string;
  current_object_version: WireObjectVersion[];
}

export interface WireMountResponse {
  object_version: WireObjectVersion[];
  error?: { code: string } | null;
  files: WireFile[];
}

// ------------------------------------------------------------------ csi.v1

export interface WireVolumeCapability {
  block?: Record<string, never> | null;
  mount?: { fs_type: string; mount_flags: string[]; volume_mount_group: string } | null;
  access_mode?: { mode: string } | null;
  /** The oneof's virtual field: which of block/mount is set. */
  access_type?: 'block' | 'mount';
}

export interface WireNodePublishVolumeRequest {
  volume_id: string;
  publish_context: Record<string, string>;
  staging_target_path: string;
  target_path: string;
  volume_capability: WireVolumeCapability | null;
  readonly: boolean;
  secrets: Record<string, string>;
  volume_context: Record<string, string>;
}

export interface WireNodeUnpublishVolumeRequest {
  volume_id: string;
  target_path: string;
}

export interface WireNodeStageVolumeRequest {
  volume_id: string;
  publish_context: Record<string, string>;
  staging_target_path: string;
  volume_capability: WireVolumeCapability | null;
  secrets: Record<string, string>;
  volume_context: Record<string, string>;
}

export interface WireNodeUnstageVolumeRequest {
  volume_id: string;
  staging_target_path: string;
}

export type Empty = Record<string, never>;

export interface WireGetPluginInfoResponse {
  name: string;
  vendor_version: string;
  manifest: Record<string, string>;
}

export interface WireGetPluginCapabilitiesResponse {
  capabilities: { service?: { type: string } | null; volume_expansion?: { type: string } | null; type?: string }[];
}

export interface WireProbeResponse {
  ready: { value: boolean } | null;
}

/** NodeServiceCapability and ControllerServiceCapability share this shape. */
export interface WireRpcCapabilities {
  capabilities: { rpc?: { type: string } | null; type?: string }[];
}

export interface WireNodeGetInfoResponse {
  node_id: string;
  max_volumes_per_node: string;
  accessible_topology: { segments: Record<string, string> } | null;
}
