/**
 * `npm run bench:density [-- options]`: the node-density benchmark (issue 5). Plays kubelet against a
 * real agent process for P pods × 10 objects × P/10 service accounts, against the local AWS endpoint
 * with an injected round-trip latency, for each strategy (secretlet, per-mount = the upstream call
 * pattern), door, size, RTT and pool size; writes bench/results/<date>-<machine>.json and the tables in
 * bench/README.md. `--quick`: P = 110, RTT = 20 ms only (< 3 minutes on 2 cores).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, hostname, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { compileAgentOptions } from '../../src/config/agent-options.js';
import { AGENT_NODE_FLAGS } from '../../src/config/node-flags.js';
import { mergedResults, updateReadme } from './report.js';
import { projectFleet } from './projection.js';
import { buildBundledAgent } from './bundled-agent.js';
import { buildCompiledAgent } from './compiled-agent.js';
import { runOne } from './run-one.js';
import type { RunConfig } from './run-one.js';
import type { ResultsFile, RunEntry, Strategy } from './types.js';

const list = (v: string): number[] => v.split(',').map((x) => Number(x.trim()));

const program = new Command()
  .name('bench:density')
  .option('--quick', 'P = 110, RTT = 20 ms only')
  .option('--pods <list>', 'pods per node', '110,250,737')
  .option('--pods-per-identity <n>', 'pods sharing one service account (S = ceil(P / n)); the issue\'s mix is 10', '10')
  .option('--rtt <list>', 'injected AWS round trip in ms', '0,20,80')
  .option('--pools <list>', 'worker pool sizes (secretlet strategy); "default" = the agent default', '0,1,default')
  .option('--doors <list>', 'csi,provider', 'csi,provider')
  .option('--strategies <list>', 'secretlet,per-mount', 'secretlet,per-mount')
  .option('--republish-window-ms <ms>', 'the compressed "every pod every 75 s" pass is spread over this window', '1000')
  .option('--no-tmpfs', 'CSI door without real tmpfs mounts (automatic when not root)')
  .option('--coalesce-window <duration>', 'agent coalesceWindow for the secretlet strategy (default: the agent default)')
  .option('--value-cache-ttl <duration>', 'agent valueCacheTtl for the secretlet strategy (default: off, as in the agent)')
  .option('--account-quotas <list>', 'agent accountQuotas for the secretlet strategy, e.g. GetParameters=3000 (default: AWS\'s quotas, as in the agent)')
  .option('--profile <dir>', 'write a CPU profile of each agent process into <dir>')
  .option('--loop-trace', "record each phase's event-loop stalls and GC pauses in the agent (results: loopTrace; adds timer wakeups, so compare traced runs only with traced runs)")
  .option('--alloc-profile <dir>', "write each phase's sampled allocations, garbage included, of each agent process into <dir> (alloc-sampler.ts; summarise with alloc-report.ts; costs CPU, so compare sampled runs only with sampled runs)")
  .option('--agent-node-args <flags>', 'node/V8 flags for the agent process (default: the shipped ones, src/config/node-flags.ts; "" for none)')
  .option('--agent <runtime>', 'agent process: "bundle" (node on the esbuild bundle, as shipped), "compiled" (node on tsc output) or "tsx" (the TypeScript source)', 'bundle')
  .option('--out <file>', 'results file (default bench/results/<date>-<machine>.json)');
program.parse();
const o = program.opts<{ quick?: boolean; pods: string; podsPerIdentity: string; rtt: string; pools: string; doors: string; strategies: string; republishWindowMs: string; tmpfs: boolean; out?: string; profile?: string; coalesceWindow?: string; valueCacheTtl?: string; accountQuotas?: string; agent: string; agentNodeArgs?: string; loopTrace?: boolean; allocProfile?: string }>();
if (o.agent !== 'bundle' && o.agent !== 'compiled' && o.agent !== 'tsx') throw new Error(`--agent must be bundle, compiled or tsx, not ${o.agent}`);
const agentRuntime = o.agent;
const agentScript =
  agentRuntime === 'bundle' ? await buildBundledAgent() : agentRuntime === 'compiled' ? buildCompiledAgent() : fileURLToPath(new URL('./agent-process.ts', import.meta.url));

const defaultPool = compileAgentOptions({ mode: 'provider' }).poolSize;
const podsList = o.quick ? [110] : list(o.pods);
const rttList = o.quick ? [20] : list(o.rtt);
const pools = [...new Set(o.pools.split(',').map((p) => (p.trim() === 'default' ? defaultPool : Number(p))))];
const doors = o.doors.split(',').map((d) => d.trim()) as Array<'csi' | 'provider'>;
const strategies = o.strategies.split(',').map((s) => s.trim()) as Strategy[];
const tmpfs = o.tmpfs && process.getuid?.() === 0;
const podsPerIdentity = Number(o.podsPerIdentity);
if (!Number.isInteger(podsPerIdentity) || podsPerIdentity < 1) throw new Error(`--pods-per-identity must be a whole number of at least 1, not ${o.podsPerIdentity}`);

const configs: RunConfig[] = [];
for (const pods of podsList)
  for (const rttMs of rttList)
    for (const door of doors)
      for (const strategy of strategies)
        // The upstream model has no pool of its own to compare: it runs at the agent default only.
        for (const poolSize of strategy === 'per-mount' ? [defaultPool] : pools)
          configs.push({ agentScript, agentRuntime, podsPerIdentity, agentNodeArgs: o.agentNodeArgs === undefined ? [...AGENT_NODE_FLAGS] : o.agentNodeArgs.split(' ').filter((a) => a !== ''), strategy, door, pods, rttMs, poolSize, republishWindowMs: Number(o.republishWindowMs), tmpfs, ...(o.coalesceWindow === undefined ? {} : { coalesceWindow: o.coalesceWindow }), ...(o.valueCacheTtl === undefined ? {} : { valueCacheTtl: o.valueCacheTtl }), ...(o.accountQuotas === undefined ? {} : { accountQuotas: o.accountQuotas }), ...(o.profile === undefined ? {} : { profileDir: o.profile }), ...(o.loopTrace === true ? { loopTrace: true } : {}), ...(o.allocProfile === undefined ? {} : { allocProfileDir: o.allocProfile }) });

const machine = `${hostname()}`.replace(/[^\w.-]+/g, '_');
const date = new Date().toISOString().slice(0, 10);
const command = `npm run bench:density${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const started = performance.now();
const runs: RunEntry[] = [];
for (const [i, c] of configs.entries()) {
  process.stderr.write(`[${i + 1}/${configs.length}] ${c.strategy} ${c.door} P=${c.pods} RTT=${c.rttMs}ms pool=${c.poolSize} ... `);
  const entries = await runOne(c);
  runs.push(...entries);
  process.stderr.write(
    entries.map((e) => `${e.phase}: ${e.awsCallsTotal} calls, ${e.allMountedMs} ms, p99 ${e.mountLatencyMs.p99} ms${e.failures > 0 ? `, ${e.failures} FAILED (${e.firstError})` : ''}`).join(' | ') + '\n',
  );
}

const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
const results: ResultsFile = {
  machine: `${machine} (${cpus().length}× ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version})`,
  date: new Date().toISOString(),
  command,
  runs,
  projection: projectFleet(runs),
};
const root = fileURLToPath(new URL('../', import.meta.url));
const out = o.out ?? `${root}results/${date}-${machine}${o.quick ? '-quick' : ''}.json`;
await mkdir(`${root}results`, { recursive: true });
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
if (o.out === undefined) await updateReadme(`${root}README.md`, await mergedResults(`${root}results`));
process.stderr.write(`wrote ${out}${o.out === undefined ? ' and bench/README.md' : ''} in ${Math.round((performance.now() - started) / 1000)} s\n`);
