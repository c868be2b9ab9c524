/**
 * Agent configuration in two stages (as Temporal and piscina do): raw `AgentOptions` from flags,
 * environment or a caller, mostly optional; `compileAgentOptions` fills defaults, normalises units
 * and checks cross-field rules, with errors that name the option. Nothing here reads process.env:
 * the CLI is the one place that does.
 */
import { availableParallelism } from 'node:os';
import { invalidArgument } from '../core/errors.js';
import { parseDuration } from './duration.js';
import { parseAccountQuotas } from './account-quotas.js';
import type { AccountQuotas } from '../adapters/aws/rate-budget.js';
import { parseListenAddress } from '../adapters/metrics/http-server.js';

export type AgentMode = 'kubelet' | 'provider' | 'both';
export type FetchStrategy = 'secretlet' | 'per-mount';
export type EventLogFsync = 'always' | 'group' | 'never';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface AgentOptions {
  /** Which doors to open. @default 'kubelet' */
  mode?: AgentMode;
  /** CSI endpoint kubelet calls. @default 'unix:///csi/csi.sock' */
  csiEndpoint?: string;
  /** Provider socket an upstream driver calls. @default '/var/run/secrets-store-csi-providers/aws.sock' */
  providerSocket?: string;
  /** CSI driver name. @default 'secrets-store.csi.k8s.io' */
  driverName?: string;
  /** This node's name (downward API NODE_NAME). Required in kubelet mode. */
  nodeName?: string;
  /** Directory for the event log and node-local keys; must survive agent restarts. @default '/var/lib/secretlet' */
  stateDir?: string;
  /** Default primary region when an SPC names none (AWS_REGION). @default '' (use the node label) */
  region?: string;
  /**
   * Rotation interval, e.g. '2m', '30s', '1m30s' (Go's duration syntax, src/config/duration.ts); '0' turns rotation off. Also how long after a mount's
   * last verification a republish of it is answered without a read (minus `valueCacheTtl`).
   * @default '2m'
   */
  rotationInterval?: string;
  /** @default 'info' */
  logLevel?: LogLevel;
  /** host:port for /metrics, /healthz, /readyz; '' disables. @default ':8095' */
  metricsAddr?: string;
  /** Kubeconfig file; empty means in-cluster configuration. @default '' */
  kubeconfig?: string;
  /**
   * API server calls over HTTP/2 where the server offers it (src/adapters/kubernetes/http2-transport.ts);
   * false keeps every call on the HTTP/1.1 connection pool.
   * @default true
   */
  kubeApiHttp2?: boolean;
  /** Provider door: return files to the driver instead of writing them (ASCP --driver-writes-secrets). @default false */
  driverWritesSecrets?: boolean;
  /** AWS endpoint override for every service (local emulator); empty uses the SDK's own resolution. @default '' */
  awsEndpoint?: string;
  /** Pod Identity agent URL override. @default '' (169.254.170.23 / fd00:ec2::23) */
  podIdentityEndpoint?: string;
  /** Size limit of each pod's tmpfs, e.g. '16Mi'. @default DEFAULT_TMPFS_SIZE ('16Mi') */
  tmpfsSize?: string;
  /**
   * Window in which concurrent fetches of one identity are merged into one batch. 10 ms measured
   * best on the density benchmark (bench/README.md): the 2 ms first tried split bursts into partial batches.
   * @default '10ms'
   */
  coalesceWindow?: string;
  /**
   * Reuse a fetched value for this long (other pods of the same identity, republish storms). Off by
   * default; must stay below the rotation interval so rotation always sees new versions. @default '0'
   */
  valueCacheTtl?: string;
  /** Nodes expected to share one AWS account+region; per-node call budgets derive from it. @default 100 */
  fleetSize?: number;
  /**
   * The account's quotas (calls/s) where they differ from AWS's defaults, e.g.
   * 'GetParameters=3000,BatchGetSecretValue=200' (src/config/account-quotas.ts); the per-node
   * budgets are these divided by `fleetSize`. @default '' (AWS's default quotas)
   */
  accountQuotas?: string;
  /** Worker threads for per-mount work; 0 runs it inline on the main thread. @default 0 on nodes with 2 cores or fewer, else 2 (see defaultPoolSize) */
  poolSize?: number;
  /** Mount jobs allowed to wait for a worker thread; beyond it a mount fails RESOURCE_EXHAUSTED. @default 1024 */
  poolMaxQueue?: number;
  /**
   * How secrets are fetched. 'per-mount' models the upstream AWS provider's call pattern (fresh
   * credentials, one call per secret, no caches) and exists for the density benchmark only.
   * @default 'secretlet'
   */
  fetchStrategy?: FetchStrategy;
  /** Bound on how long SIGTERM waits for in-flight mounts. @default '20s' */
  drainTimeout?: string;
  /** Create/update Kubernetes Secrets for SPCs with `secretObjects` (kubelet door). @default true */
  syncSecrets?: boolean;
  /** Event log fsync policy (see src/adapters/eventlog/README.md). @default 'always' */
  eventLogFsync?: EventLogFsync;
  /** Compact the event log (snapshot + new segment) after this many records; 0 never. @default 10000 */
  eventLogCompactEvery?: number;
  /**
   * After a restart, mint pod-bound tokens (TokenRequest) so mounts replayed from the event log
   * rejoin rotation without waiting for kubelet's republish. Needs `serviceaccounts/token` create
   * RBAC, which least-privilege installs do not grant. @default false
   */
  mintTokens?: boolean;
}

export interface CompiledAgentOptions {
  mode: AgentMode;
  csiEndpoint: string;
  providerSocket: string;
  driverName: string;
  nodeName: string;
  stateDir: string;
  region: string;
  rotationIntervalMs: number;
  logLevel: LogLevel;
  metricsAddr: string;
  kubeconfig: string;
  kubeApiHttp2: boolean;
  driverWritesSecrets: boolean;
  awsEndpoint: string;
  podIdentityEndpoint: string;
  tmpfsSizeBytes: number;
  coalesceWindowMs: number;
  valueCacheTtlMs: number;
  fleetSize: number;
  accountQuotas: AccountQuotas;
  poolSize: number;
  poolMaxQueue: number;
  fetchStrategy: FetchStrategy;
  drainTimeoutMs: number;
  syncSecrets: boolean;
  eventLogFsync: EventLogFsync;
  eventLogCompactEvery: number;
  mintTokens: boolean;
}

const SIZE = /^(\d+)(Ki|Mi|Gi)?$/;
const UNIT_BYTES: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/**
 * Each pod volume's tmpfs limit. A rotation keeps the live and the new payload side by side until
 * the swap, and a provider response may carry up to 4 MiB (driver.md §4.6): 16 MiB holds both with
 * room for a page per file. Upstream mounts without a limit; a limit costs nothing until used.
 */
export const DEFAULT_TMPFS_SIZE = '16Mi';

export function parseSize(value: string, option: string): number {
  const m = SIZE.exec(value.trim());
  if (!m) throw invalidArgument('InvalidOption', `options.${option} must be a size like 4Mi (got "${value}")`, option);
  return Number(m[1]) * (m[2] ? UNIT_BYTES[m[2]]! : 1);
}

const MODES: readonly AgentMode[] = ['kubelet', 'provider', 'both'];
const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function compileAgentOptions(o: AgentOptions): CompiledAgentOptions {
  const mode = o.mode ?? 'kubelet';
  if (!MODES.includes(mode)) throw invalidArgument('InvalidOption', `options.mode must be one of ${MODES.join(', ')} (got "${String(mode)}")`, 'mode');
  const logLevel = o.logLevel ?? 'info';
  if (!LEVELS.includes(logLevel)) throw invalidArgument('InvalidOption', `options.logLevel must be one of ${LEVELS.join(', ')}`, 'logLevel');
  const nodeName = o.nodeName ?? '';
  if (mode !== 'provider' && nodeName === '') {
    throw invalidArgument('InvalidOption', 'options.nodeName is required in kubelet mode (set --node-name or NODE_NAME from the downward API; kubelet mode is the default; the AWS provider flag --provider-volume selects provider mode only when no --mode and no driver flag such as --endpoint or --rotation-poll-interval is given)', 'nodeName');
  }
  const fleetSize = o.fleetSize ?? 100;
  if (!Number.isInteger(fleetSize) || fleetSize < 1) throw invalidArgument('InvalidOption', 'options.fleetSize must be a positive integer', 'fleetSize');
  const poolSize = o.poolSize ?? defaultPoolSize(availableParallelism());
  if (!Number.isInteger(poolSize) || poolSize < 0) throw invalidArgument('InvalidOption', 'options.poolSize must be a non-negative integer', 'poolSize');
  const poolMaxQueue = o.poolMaxQueue ?? 1024;
  if (!Number.isInteger(poolMaxQueue) || poolMaxQueue < 1) throw invalidArgument('InvalidOption', 'options.poolMaxQueue must be a positive integer', 'poolMaxQueue');
  const metricsAddr = metricsAddrOf(o.metricsAddr ?? ':8095');
  const csiEndpoint = o.csiEndpoint ?? 'unix:///csi/csi.sock';
  const providerSocket = o.providerSocket ?? '/var/run/secrets-store-csi-providers/aws.sock';
  // Each door listens on its own socket: one path for both would fail at start as "in use".
  if (mode === 'both' && csiEndpoint.replace(/^unix:\/\//, '') === providerSocket) {
    throw invalidArgument('InvalidOption', `options.csiEndpoint and options.providerSocket name the same socket (${providerSocket}); with mode both each door needs its own`, 'providerSocket');
  }
  const fetchStrategy = o.fetchStrategy ?? 'secretlet';
  if (fetchStrategy !== 'secretlet' && fetchStrategy !== 'per-mount') {
    throw invalidArgument('InvalidOption', `options.fetchStrategy must be secretlet or per-mount (got "${String(fetchStrategy)}")`, 'fetchStrategy');
  }
  return {
    mode,
    csiEndpoint,
    providerSocket,
    driverName: o.driverName ?? 'secrets-store.csi.k8s.io',
    nodeName,
    stateDir: o.stateDir ?? '/var/lib/secretlet',
    region: o.region ?? '',
    rotationIntervalMs: parseDuration(o.rotationInterval ?? '2m', 'rotationInterval'),
    logLevel,
    metricsAddr,
    kubeconfig: o.kubeconfig ?? '',
    kubeApiHttp2: o.kubeApiHttp2 ?? true,
    driverWritesSecrets: o.driverWritesSecrets ?? false,
    awsEndpoint: o.awsEndpoint ?? '',
    podIdentityEndpoint: o.podIdentityEndpoint ?? '',
    tmpfsSizeBytes: parseSize(o.tmpfsSize ?? DEFAULT_TMPFS_SIZE, 'tmpfsSize'),
    coalesceWindowMs: parseDuration(o.coalesceWindow ?? '10ms', 'coalesceWindow'),
    valueCacheTtlMs: valueCacheTtlOf(o),
    fleetSize,
    accountQuotas: parseAccountQuotas(o.accountQuotas ?? ''),
    poolSize,
    poolMaxQueue,
    fetchStrategy,
    drainTimeoutMs: parseDuration(o.drainTimeout ?? '20s', 'drainTimeout'),
    syncSecrets: o.syncSecrets ?? true,
    eventLogFsync: eventLogFsyncOf(o.eventLogFsync),
    eventLogCompactEvery: nonNegativeInteger(o.eventLogCompactEvery ?? 10_000, 'eventLogCompactEvery'),
    mintTokens: o.mintTokens ?? false,
  };
}

function eventLogFsyncOf(value: EventLogFsync | undefined): EventLogFsync {
  const v = value ?? 'always';
  if (v !== 'always' && v !== 'group' && v !== 'never') {
    throw invalidArgument('InvalidOption', `options.eventLogFsync must be always, group or never (got "${String(v)}")`, 'eventLogFsync');
  }
  return v;
}

/** Checked here so a bad address fails with the option's name, before anything starts. '' turns the server off. */
function metricsAddrOf(addr: string): string {
  if (addr === '') return addr;
  try {
    parseListenAddress(addr);
  } catch {
    throw invalidArgument('InvalidOption', `options.metricsAddr must be host:port or :port, or empty to turn it off (got "${addr}")`, 'metricsAddr');
  }
  return addr;
}

function nonNegativeInteger(value: number, option: string): number {
  if (!Number.isInteger(value) || value < 0) throw invalidArgument('InvalidOption', `options.${option} must be a non-negative integer`, option);
  return value;
}

function valueCacheTtlOf(o: AgentOptions): number {
  const ttl = parseDuration(o.valueCacheTtl ?? '0', 'valueCacheTtl');
  const rotation = parseDuration(o.rotationInterval ?? '2m', 'rotationInterval');
  if (ttl > 0 && rotation > 0 && ttl >= rotation) {
    throw invalidArgument('InvalidOption', `options.valueCacheTtl (${o.valueCacheTtl}) must be shorter than options.rotationInterval (${o.rotationInterval ?? '2m'}), or rotation would re-serve cached values`, 'valueCacheTtl');
  }
  return ttl;
}

/**
 * Measured on the density benchmark (bench/README.md): on a 2-core node a pool competes with the main
 * thread and the emulated peers for the same cores and made bursts slower and batches smaller, so the
 * work stays inline there; with more cores two threads take parse/validate off the event loop.
 */
export function defaultPoolSize(cores: number): number {
  return cores <= 2 ? 0 : 2;
}
