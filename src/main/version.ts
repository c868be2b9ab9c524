/** The agent's version, reported by GetPluginInfo, the provider Version RPC and `--version`. */
export const SECRETLET_VERSION = '0.1.0';
