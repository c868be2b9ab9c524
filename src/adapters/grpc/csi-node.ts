/**
 * `csi.v1.Node`: the upstream input checks (csi-node-validation.ts), then NodePublishVolume and
 * NodeUnpublishVolume go to the NodeVolumeHandler port; Stage/Unstage validate and succeed (the
 * STAGE_UNSTAGE_VOLUME capability is advertised as upstream, though kubelet never stages inline
 * volumes); NodeGetInfo returns only the node id; stats and expansion are Unimplemented.
 */
import * as grpc from '@grpc/grpc-js';
import type { CsiServiceOptions, NodePublishRequest } from './csi-types.js';
import { checkNodePublish, checkNodeStage, checkNodeUnpublish, checkNodeUnstage } from './csi-node-validation.js';
import { fixedStatusHandler, unaryHandler } from './unary-handler.js';
import type {
  Empty,
  WireNodeGetInfoResponse,
  WireNodePublishVolumeRequest,
  WireNodeStageVolumeRequest,
  WireNodeUnpublishVolumeRequest,
  WireNodeUnstageVolumeRequest,
  WireRpcCapabilities,
} from './wire-types.js';

export function nodeImplementation(options: Pick<CsiServiceOptions, 'nodeId' | 'handler'>): grpc.UntypedServiceImplementation {
  const { handler } = options;
  return {
    NodePublishVolume: unaryHandler<WireNodePublishVolumeRequest, Empty>(async (request, signal) => {
      const invalid = checkNodePublish(request);
      if (invalid) {
        handler.publishRejected?.(invalid, fromWirePublish(request));
        throw invalid;
      }
      await handler.publish(fromWirePublish(request), signal);
      return {};
    }),
    NodeUnpublishVolume: unaryHandler<WireNodeUnpublishVolumeRequest, Empty>(async (request, signal) => {
      const invalid = checkNodeUnpublish(request);
      if (invalid) {
        handler.unpublishRejected?.(invalid, { volumeId: request.volume_id, targetPath: request.target_path });
        throw invalid;
      }
      await handler.unpublish({ volumeId: request.volume_id, targetPath: request.target_path }, signal);
      return {};
    }),
    NodeStageVolume: unaryHandler<WireNodeStageVolumeRequest, Empty>((request) => {
      const invalid = checkNodeStage(request);
      if (invalid) throw invalid;
      return {};
    }),
    NodeUnstageVolume: unaryHandler<WireNodeUnstageVolumeRequest, Empty>((request) => {
      const invalid = checkNodeUnstage(request);
      if (invalid) throw invalid;
      return {};
    }),
    NodeGetVolumeStats: fixedStatusHandler({ code: grpc.status.UNIMPLEMENTED, details: '' }),
    NodeExpandVolume: fixedStatusHandler({ code: grpc.status.UNIMPLEMENTED, details: 'NodeExpandVolume is not implemented' }),
    NodeGetCapabilities: unaryHandler<Empty, WireRpcCapabilities>(() => ({
      capabilities: [{ rpc: { type: 'STAGE_UNSTAGE_VOLUME' } }],
    })),
    NodeGetInfo: unaryHandler<Empty, Pick<WireNodeGetInfoResponse, 'node_id'>>(() => ({ node_id: options.nodeId })),
  };
}

export function fromWirePublish(wire: WireNodePublishVolumeRequest): NodePublishRequest {
  return {
    volumeId: wire.volume_id,
    targetPath: wire.target_path,
    volumeContext: { ...wire.volume_context },
    secrets: { ...wire.secrets },
    readonly: wire.readonly,
    mountFlags: [...(wire.volume_capability?.mount?.mount_flags ?? [])],
  };
}
