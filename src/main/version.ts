/** The agent's version, reported by GetPluginInfo, the provider Version RPC and `--version`. */
export const SECRETLET_VERSION = '0.1.0';

/** The provider Version RPC's runtime_name: the AWS provider's own, as a drop-in for it. */
export const ASCP_RUNTIME_NAME = 'secrets-store-csi-driver-provider-aws';
