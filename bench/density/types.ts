import type { LoopTrace } from './loop-trace.js';

/** The results file's shape (one entry per strategy × door × size × pool size × RTT × phase). */
export type Strategy = 'secretlet' | 'per-mount';
export type Phase = 'burst' | 'republish' | 'rotation';

export interface RunEntry {
  strategy: Strategy;
  door: 'csi' | 'provider';
  pods: number;
  objects: number;
  serviceAccounts: number;
  /** Pods per service account when not the 10 (`--pods-per-identity`); absent = 10. */
  podsPerIdentity?: number;
  /** The agent's `accountQuotas` when set (`--account-quotas`, secretlet strategy); absent = AWS's defaults. */
  accountQuotas?: string;
  rttMs: number;
  poolSize: number;
  phase: Phase;
  awsCalls: Record<string, number>;
  awsCallsTotal: number;
  credentialCalls: number;
  kubeCalls: number;
  allMountedMs: number;
  mountLatencyMs: { p50: number; p99: number; max: number };
  /** TCP connections the agent opened to the API server in the phase (keep-alive reuses them). Absent in older results. */
  kubeConnections?: number;
  peakRssMiB: number;
  /**
   * `process.memoryUsage()` at the sample that set `peakRssMiB`: the V8 heap (total reserved, used),
   * memory outside it that V8 tracks (external, of which ArrayBuffers). The rest of RSS is code,
   * native allocations and thread stacks. Absent in older results.
   */
  peakMemoryMiB?: { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  /** The agent's RSS once started and serving, before the warm-up mount (same for every phase of a run). Absent in older results. */
  agentStartRssMiB?: number;
  cpuSeconds: number;
  eventLoopDelayP99Ms: number;
  /** With `--loop-trace` only: the phase's loop stalls and GC pauses (loop-trace.ts). */
  loopTrace?: LoopTrace;
  /** With `--alloc-profile`: the phase's sampled allocations (alloc-sampler.ts). */
  allocationProfile?: string;
  /** Extra: failed publishes in the phase (should be 0), the first error, tmpfs or not. */
  failures: number;
  firstError?: string;
  tmpfs: boolean;
  /** The agent's value cache TTL for this run (secretlet only); absent = off, the agent default. */
  valueCacheTtl?: string;
  /** How the agent process ran: the esbuild bundle under node (as shipped since 2026-11-23 evening), tsc output under node, or TypeScript under tsx. Absent in older results = tsx. */
  agentRuntime?: 'bundle' | 'compiled' | 'tsx';
  /** Extra node/V8 flags the agent process ran with (absent: none). */
  agentNodeArgs?: string;
  /** Rotation only: whether a rotated value reached a pod's files. */
  rotationVisible?: boolean;
  /**
   * secretlet rotation only: ms from the cycle's start until the SecretProviderClassPodStatus
   * patches it caused were all answered (they follow the cycle; `allMountedMs` is the cycle). The
   * phase's kube calls, CPU and RSS include them. Absent in older results (no patches then).
   */
  podStatusesSettledMs?: number;
}

export interface ResultsFile {
  machine: string;
  date: string;
  command: string;
  runs: RunEntry[];
  projection?: unknown;
}
