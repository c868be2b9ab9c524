/**
 * What of a NodePublishVolume request may be logged. Mirrors the upstream driver, which strips the
 * CSI `secrets` field and replaces the service-account tokens in the volume context (their leak
 * into logs was CVE-2023-2878). Whoever logs requests logs the output of this function only.
 */
import type { NodePublishRequest } from './csi-types.js';

export const SERVICE_ACCOUNT_TOKENS_KEY = 'csi.storage.k8s.io/serviceAccount.tokens';
export const STRIPPED = '***stripped***';

export type SanitizedPublishRequest = Omit<NodePublishRequest, 'secrets'>;

export function sanitizePublishRequest(req: NodePublishRequest): SanitizedPublishRequest {
  const volumeContext = { ...req.volumeContext };
  if (Object.hasOwn(volumeContext, SERVICE_ACCOUNT_TOKENS_KEY)) volumeContext[SERVICE_ACCOUNT_TOKENS_KEY] = STRIPPED;
  return {
    volumeId: req.volumeId,
    targetPath: req.targetPath,
    volumeContext,
    readonly: req.readonly,
    mountFlags: [...req.mountFlags],
  };
}
