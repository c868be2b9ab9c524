/**
 * The kubeconfig that points kubectl, charts and @kubernetes/client-node at the emulator: one
 * cluster (with the emulator's CA when it serves TLS), one bearer-token user and one context, all
 * named `secretlet-local`.
 */
import { stringify } from 'yaml';

export const CONTEXT_NAME = 'secretlet-local';

export function kubeconfigYaml(options: { server: string; token: string; caPem?: string; namespace?: string }): string {
  const cluster: Record<string, string> = { server: options.server };
  if (options.caPem !== undefined) cluster['certificate-authority-data'] = Buffer.from(options.caPem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT_NAME, cluster }],
    users: [{ name: CONTEXT_NAME, user: { token: options.token } }],
    contexts: [{ name: CONTEXT_NAME, context: { cluster: CONTEXT_NAME, user: CONTEXT_NAME, namespace: options.namespace ?? 'default' } }],
    'current-context': CONTEXT_NAME,
    preferences: {},
  });
}
