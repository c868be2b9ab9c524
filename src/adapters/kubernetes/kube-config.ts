/**
 * Builds the Kubernetes client configuration the way a node agent does: an explicit kubeconfig file
 * (local emulator, development), else the in-cluster service account.
 */
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(kubeconfigPath: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath !== undefined && kubeconfigPath !== '') kc.loadFromFile(kubeconfigPath);
  else kc.loadFromCluster();
  return kc;
}
