/**
 * One benchmark configuration end to end: a fresh stack process and a fresh agent process, the three
 * phases (cold burst, compressed republish, rotation of 10% of secrets + republish), counters and agent
 * samples around each phase, then teardown. Fresh processes per configuration keep every burst cold.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DirectCommandRunner, TmpfsMounter } from '../../src/adapters/fs/index.js';
import type { AgentOptions } from '../../src/config/agent-options.js';
import { spawnChild } from './ipc.js';
import { KubeletPlayer } from './kubelet-player.js';
import type { Door, PassResult } from './kubelet-player.js';
import type { LoopTrace } from './loop-trace.js';
import type { Phase, RunEntry, Strategy } from './types.js';
import { DEFAULT_PODS_PER_IDENTITY, OBJECTS_PER_POD, pods as podsOf, serviceAccountCount, warmupPod } from './world.js';

export interface RunConfig {
  strategy: Strategy;
  door: Door;
  pods: number;
  /** Pods per service account (S = ceil(P / this)); the mix is 10. */
  podsPerIdentity: number;
  rttMs: number;
  poolSize: number;
  republishWindowMs: number;
  tmpfs: boolean;
  /** Agent `coalesceWindow` (e.g. '10ms'); the agent default when unset. */
  coalesceWindow?: string;
  /** Agent `valueCacheTtl` (e.g. '5s'); off when unset. */
  valueCacheTtl?: string;
  /** Agent `accountQuotas` (e.g. 'GetParameters=3000'); AWS's defaults when unset. */
  accountQuotas?: string;
  /** Write a V8 CPU profile of the agent process into this directory. */
  profileDir?: string;
  /** The agent process's entry: bundled or compiled `.js` (run by node), or the `.ts` source (run by tsx). */
  agentScript: string;
  agentRuntime: 'bundle' | 'compiled' | 'tsx';
  /** Extra node/V8 flags for the agent process. */
  agentNodeArgs: string[];
  /** Trace the agent's loop stalls and GC pauses per phase (loop-trace.ts). */
  loopTrace?: boolean;
  /** Write each phase's sampled allocations (alloc-sampler.ts) into this directory. */
  allocProfileDir?: string;
}

interface StackReady {
  awsUrl: string;
  podIdentityUrl: string;
  kubeconfigPath: string;
}

interface Counters {
  aws: Record<string, number>;
  awsTotal: number;
  kubeTotal: number;
  kubeConnections: number;
}

interface AgentSample {
  peakRssMiB: number;
  peakMemoryMiB: RunEntry['peakMemoryMiB'];
  startRssMiB: number;
  cpuSeconds: number;
  eventLoopDelayP99Ms: number;
  loopTrace?: LoopTrace;
  allocationProfile?: string;
}

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const CREDENTIAL_ACTIONS = ['AssumeRoleWithWebIdentity', 'PodIdentityGetCredentials'];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? 0;
}

const r1 = (n: number): number => Math.round(n * 10) / 10;

function entry(c: RunConfig, phase: Phase, pass: PassResult, counters: Counters, sample: AgentSample): RunEntry {
  const sorted = [...pass.latenciesMs].sort((a, b) => a - b);
  const credentialCalls = CREDENTIAL_ACTIONS.reduce((n, a) => n + (counters.aws[a] ?? 0), 0);
  return {
    strategy: c.strategy,
    ...(c.valueCacheTtl !== undefined && c.strategy === 'secretlet' ? { valueCacheTtl: c.valueCacheTtl } : {}),
    ...(c.accountQuotas !== undefined && c.strategy === 'secretlet' ? { accountQuotas: c.accountQuotas } : {}),
    door: c.door,
    pods: c.pods,
    objects: OBJECTS_PER_POD,
    serviceAccounts: serviceAccountCount(c),
    ...(c.podsPerIdentity === DEFAULT_PODS_PER_IDENTITY ? {} : { podsPerIdentity: c.podsPerIdentity }),
    rttMs: c.rttMs,
    poolSize: c.poolSize,
    phase,
    awsCalls: counters.aws,
    awsCallsTotal: counters.awsTotal,
    credentialCalls,
    kubeCalls: counters.kubeTotal,
    kubeConnections: counters.kubeConnections,
    allMountedMs: r1(pass.allMountedMs),
    mountLatencyMs: { p50: r1(percentile(sorted, 50)), p99: r1(percentile(sorted, 99)), max: r1(sorted[sorted.length - 1] ?? 0) },
    peakRssMiB: sample.peakRssMiB,
    peakMemoryMiB: sample.peakMemoryMiB,
    agentStartRssMiB: sample.startRssMiB,
    cpuSeconds: sample.cpuSeconds,
    eventLoopDelayP99Ms: sample.eventLoopDelayP99Ms,
    ...(sample.loopTrace === undefined ? {} : { loopTrace: sample.loopTrace }),
    ...(sample.allocationProfile === undefined ? {} : { allocationProfile: sample.allocationProfile }),
    failures: pass.failures,
    ...(pass.firstError === undefined ? {} : { firstError: pass.firstError.slice(0, 300) }),
    tmpfs: c.door === 'csi' && c.tmpfs,
    agentRuntime: c.agentRuntime,
    ...(c.agentNodeArgs.length > 0 ? { agentNodeArgs: c.agentNodeArgs.join(' ') } : {}),
  };
}

export async function runOne(c: RunConfig): Promise<RunEntry[]> {
  const dir = await mkdtemp(join(tmpdir(), 'secretlet-density-'));
  // The upstream driver mounts a tmpfs on every target before it calls the provider, so provider-door
  // writes (and their fsyncs) land on tmpfs, not on the node's disk. One tmpfs for all pods models that.
  const driverTmpfs = c.door === 'provider' && c.tmpfs ? join(dir, 'driver') : undefined;
  if (driverTmpfs !== undefined) {
    await mkdir(driverTmpfs, { recursive: true });
    await new TmpfsMounter({ rootMode: 0o755, runner: new DirectCommandRunner() }).mount(driverTmpfs, { sizeBytes: 256 * 1024 * 1024 });
  }
  const stack = await spawnChild<StackReady>(here('./stack-process.ts'), [JSON.stringify({ pods: c.pods, podsPerIdentity: c.podsPerIdentity, rttMs: c.rttMs })]);
  const csiEndpoint = `unix://${join(dir, 'csi.sock')}`;
  const providerSocket = join(dir, 'provider.sock');
  const options: AgentOptions = {
    mode: c.door === 'csi' ? 'kubelet' : 'provider',
    nodeName: 'bench-node',
    csiEndpoint,
    providerSocket,
    kubeconfig: stack.ready.kubeconfigPath,
    awsEndpoint: stack.ready.awsUrl,
    podIdentityEndpoint: stack.ready.podIdentityUrl,
    stateDir: join(dir, 'state'),
    metricsAddr: '',
    logLevel: 'silent',
    // One node owns the account's whole quota here: the benchmark measures call counts, not budgets.
    fleetSize: 1,
    poolSize: c.poolSize,
    fetchStrategy: c.strategy,
    // secretlet: the default rotation interval (its timer is stopped in agent-process.ts; the driver
    // runs the cycle). per-mount has no reconciler: it rotates the upstream way, by republishes.
    rotationInterval: c.strategy === 'secretlet' ? '2m' : '0',
    ...(c.coalesceWindow === undefined ? {} : { coalesceWindow: c.coalesceWindow }),
    ...(c.valueCacheTtl === undefined || c.strategy !== 'secretlet' ? {} : { valueCacheTtl: c.valueCacheTtl }),
    ...(c.accountQuotas === undefined || c.strategy !== 'secretlet' ? {} : { accountQuotas: c.accountQuotas }),
  };
  const agent = await spawnChild<{ pid: number }>(c.agentScript, [JSON.stringify(options), ...(c.tmpfs ? [] : ['--no-tmpfs']), ...(c.loopTrace === true ? ['--loop-trace'] : []), ...(c.allocProfileDir === undefined ? [] : [`--alloc-profile=${c.allocProfileDir}`])], [...c.agentNodeArgs, ...(c.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', c.profileDir])]);
  const pods = podsOf(c);
  const tokens = await stack.call<string[]>('tokens');
  const player = new KubeletPlayer({
    door: c.door,
    endpoint: c.door === 'csi' ? csiEndpoint : providerSocket,
    dir,
    pods,
    tokens: tokens.slice(0, pods.length),
    warmup: { pod: warmupPod(c), tokens: tokens[pods.length] ?? '' },
  });
  const out: RunEntry[] = [];
  try {
    await player.prepare();
    await player.warmUp();
    const phase = async (name: Phase, spreadMs: number): Promise<RunEntry> => {
      await stack.call('reset');
      await agent.call('reset', { phase: name });
      const pass = await player.pass(spreadMs);
      const e = entry(c, name, pass, await stack.call<Counters>('counters'), await agent.call<AgentSample>('sample'));
      out.push(e);
      return e;
    };
    await phase('burst', 0);
    await phase('republish', c.republishWindowMs);
    await stack.call('rotate', { fraction: 0.1 });
    // secretlet rotates with its reconciler: one fetch per (identity, region) over all live mounts.
    // The per-mount model rotates the upstream way (driver >= 1.6): a kubelet republish of every pod.
    const rotation =
      c.strategy === 'secretlet'
        ? await (async (): Promise<RunEntry> => {
            await stack.call('reset');
            await agent.call('reset', { phase: 'rotation' });
            const cycle = await agent.call<{ durationMs: number; podStatusesSettledMs: number; rewritten: number; failed: number; firstError?: string }>('rotate');
            const pass: PassResult = { latenciesMs: [cycle.durationMs], allMountedMs: cycle.durationMs, failures: cycle.failed, firstError: cycle.firstError };
            const e = entry(c, 'rotation', pass, await stack.call<Counters>('counters'), await agent.call<AgentSample>('sample'));
            if (c.door === 'csi') e.podStatusesSettledMs = cycle.podStatusesSettledMs;
            out.push(e);
            return e;
          })()
        : await phase('rotation', c.republishWindowMs);
    // pod-0's first secret is among the rotated ones (every 10th object, starting with the first).
    const first = pods[0];
    if (first !== undefined) {
      const text = await readFile(join(player.targetPath(first), 'db-password'), 'utf8').catch(() => '');
      rotation.rotationVisible = text.endsWith('-g1');
    }
  } finally {
    await player.teardown();
    await agent.stop();
    await stack.stop();
    if (driverTmpfs !== undefined) await new TmpfsMounter({ runner: new DirectCommandRunner() }).unmount(driverTmpfs).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
  return out;
}
