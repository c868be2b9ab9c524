/**
 * The `serve` flags as data: one definition feeds commander (flag + env variable), the agent options,
 * and the configuration reference in the README (a test checks the README is current).
 */
import type { AgentOptions } from '../config/agent-options.js';

export interface FlagDefinition {
  /** Key in AgentOptions. */
  key: keyof AgentOptions;
  flag: string;
  env: string;
  description: string;
  defaultText: string;
  /** 'switch' is a true/false value (so a default of true can be turned off from a flag or env). */
  kind: 'string' | 'number' | 'boolean' | 'switch';
}

function def(key: keyof AgentOptions, flag: string, kind: FlagDefinition['kind'], defaultText: string, description: string): FlagDefinition {
  return { key, flag, kind, defaultText, description, env: `SECRETLET_${flag.replace(/-/g, '_').toUpperCase()}` };
}

export const SERVE_FLAGS: readonly FlagDefinition[] = [
  def('mode', 'mode', 'string', 'kubelet', 'Doors to open: kubelet (CSI driver on --csi-endpoint), provider (behind an upstream driver on --provider-socket), or both.'),
  def('csiEndpoint', 'csi-endpoint', 'string', 'unix:///csi/csi.sock', 'CSI endpoint kubelet calls (unix:// path).'),
  def('providerSocket', 'provider-socket', 'string', '/var/run/secrets-store-csi-providers/aws.sock', 'Unix socket of the v1alpha1.CSIDriverProvider service (ASCP path).'),
  def('driverName', 'driver-name', 'string', 'secrets-store.csi.k8s.io', 'CSI driver name reported by GetPluginInfo.'),
  def('nodeName', 'node-name', 'string', '$NODE_NAME', "This node's name (downward API spec.nodeName); required in kubelet mode. Unset in provider mode, the node whose region label is read is the first mounted pod's spec.nodeName."),
  def('stateDir', 'state-dir', 'string', '/var/lib/secretlet', 'Directory for the event log; must survive agent restarts (hostPath).'),
  def('region', 'region', 'string', '$AWS_REGION', 'Default AWS region when a SecretProviderClass names none; else the node label topology.kubernetes.io/region.'),
  def('rotationInterval', 'rotation-interval', 'string', '2m', 'How often live mounts are refreshed. A kubelet republish of a mount verified within this interval (and untouched since) reads nothing; 0 turns rotation off (removed provider-door mounts are still forgotten every 2m), and then every republish reads.'),
  def('logLevel', 'log-level', 'string', 'info', 'trace, debug, info, warn, error, fatal or silent.'),
  def('metricsAddr', 'metrics-addr', 'string', ':8095', 'host:port for /metrics, /healthz and /readyz; without a host (:8095) every IPv6 and IPv4 address; empty disables.'),
  def('kubeconfig', 'kubeconfig', 'string', '(in-cluster)', 'Kubeconfig file; empty uses the in-cluster service account.'),
  def('kubeApiHttp2', 'kube-api-http2', 'switch', 'true', 'Call the API server over HTTP/2 where it offers it (one connection, each call a stream, as client-go does); false keeps HTTP/1.1 (up to 16 connections).'),
  def('driverWritesSecrets', 'driver-writes-secrets', 'boolean', 'false', 'Provider door: return files to the driver instead of writing them (ASCP --driver-writes-secrets).'),
  def('awsEndpoint', 'aws-endpoint', 'string', '(SDK default)', 'Endpoint for Secrets Manager, SSM and STS (e.g. the local emulator); AWS_ENDPOINT_URL* also work.'),
  def('podIdentityEndpoint', 'pod-identity-endpoint', 'string', '(by preferredAddressType)', 'EKS Pod Identity agent URL. Unset, it follows each SecretProviderClass\'s preferredAddressType, as ASCP: http://169.254.170.23/v1/credentials (ipv4), http://[fd00:ec2::23]/v1/credentials (ipv6), or both in turn (auto); set, it is used for every mount.'),
  def('tmpfsSize', 'tmpfs-size', 'string', '16Mi', 'Size limit of each pod volume tmpfs; it must hold two copies of a payload (the live one and its replacement during a rotation).'),
  def('coalesceWindow', 'coalesce-window', 'string', '10ms', 'Window in which concurrent fetches of one identity and region are merged into batches.'),
  def('valueCacheTtl', 'value-cache-ttl', 'string', '0', 'Reuse fetched values this long across pods of one identity (burst and republish storms); 0 is off; with rotation on it must be shorter than --rotation-interval (with rotation off every republish reads, and may be answered from this cache).'),
  def('fleetSize', 'fleet-size', 'number', '100', 'Nodes sharing one AWS account and region; per-node call budgets are the account quotas divided by it.'),
  def('accountQuotas', 'account-quotas', 'string', '(AWS defaults)', "The account's quotas in calls/s where they differ from AWS's defaults, e.g. GetParameters=3000 with SSM's higher throughput on, or a raised BatchGetSecretValue; per-node budgets are these divided by --fleet-size."),
  def('poolSize', 'pool-size', 'number', '0 on ≤2 cores, else 2', 'Worker threads for per-mount work; 0 runs it on the main thread.'),
  def('poolMaxQueue', 'pool-max-queue', 'number', '1024', 'Jobs allowed to wait for a worker thread (pool size > 0; a mount queues a prepare, a render and a write, one at a time; rotation keeps at most a quarter of it); beyond it a mount is answered RESOURCE_EXHAUSTED and kubelet retries it.'),
  def('drainTimeout', 'drain-timeout', 'string', '20s', 'On SIGTERM, how long in-flight mounts may take before the agent exits.'),
  def('syncSecrets', 'sync-secrets', 'switch', 'true', 'Create and update Kubernetes Secrets from SecretProviderClass secretObjects (needs Secret RBAC); false turns it off.'),
  def('eventLogFsync', 'event-log-fsync', 'string', 'always', 'Event log durability: always (fsync before acknowledging, concurrent appends share one), group, or never (survives kill -9, not power loss).'),
  def('eventLogCompactEvery', 'event-log-compact-every', 'number', '10000', 'Compact the event log (snapshot + new segment) every N records; 0 never.'),
  def('mintTokens', 'mint-tokens', 'switch', 'false', 'After a restart, mint pod-bound tokens (TokenRequest) so restored kubelet-door mounts rotate without waiting for a republish; needs serviceaccounts/token create RBAC (deploy/components/serviceaccount-token adds it).'),
];

/**
 * How a flag is written in `--help` and the README: `<value>` is required; a 'boolean' flag may stand
 * alone (true) or take `true`/`false`, like Go's `-flag` / `-flag=false`.
 */
export function flagSyntax(f: FlagDefinition): string {
  if (f.kind === 'boolean') return `--${f.flag} [bool]`;
  return `--${f.flag} <${f.kind === 'number' ? 'n' : f.kind === 'switch' ? 'bool' : 'value'}>`;
}
