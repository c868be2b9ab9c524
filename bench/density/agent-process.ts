/**
 * The agent under test, alone in its process so that its peak RSS, CPU seconds and event-loop delay
 * are its own. Reports them over IPC when the driver asks (`sample`, `reset`): a bench-only probe,
 * not part of the agent's public surface. With root it mounts real tmpfs; without, an in-memory
 * mounter (files still land on disk through the real writers).
 * Usage: tsx bench/density/agent-process.ts '<AgentOptions JSON>' [--no-tmpfs] [--loop-trace] [--alloc-profile=<dir>]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { InMemoryVolumeMounter } from '../../src/adapters/fs/index.js';
import { createLogger } from '../../src/adapters/logging/logger.js';
import { compileAgentOptions } from '../../src/config/agent-options.js';
import type { AgentOptions } from '../../src/config/agent-options.js';
import { Agent } from '../../src/main/agent.js';
import { AllocationSampler } from './alloc-sampler.js';
import { serveParent } from './ipc.js';
import { LoopTracer } from './loop-trace.js';

const options = JSON.parse(process.argv[2] ?? '{}') as AgentOptions;
const tmpfs = !process.argv.includes('--no-tmpfs');
const tracer = process.argv.includes('--loop-trace') ? new LoopTracer() : undefined;
const allocDir = process.argv.find((a) => a.startsWith('--alloc-profile='))?.slice('--alloc-profile='.length);
const allocations = allocDir === undefined ? undefined : new AllocationSampler(allocDir);

const agent = Agent.create(compileAgentOptions(options), {
  logger: createLogger({ level: 'silent' }),
  ...(tmpfs ? {} : { mounter: new InMemoryVolumeMounter() }),
});
await agent.start();
// What a node pays while nothing happens: RSS once the agent is serving, before any mount.
const startRss = process.memoryUsage.rss();
// The driver runs rotation cycles itself (`rotate`), so none lands mid-phase; the interval still
// applies where the agent uses it otherwise (how long a verified mount's republish skips its read).
await agent.rotation?.stop();

const MiB = 1024 * 1024;
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
let peakRss = process.memoryUsage.rss();
// What the peak was made of (V8 heap vs. buffers vs. the rest: code, native, thread stacks).
let atPeak = process.memoryUsage();
let cpuAtReset = process.cpuUsage();
// RSS is sampled rather than read from getrusage: maxrss never goes down, so it could not give a per-phase peak.
function samplePeak(): void {
  const rss = process.memoryUsage.rss();
  if (rss < peakRss) return;
  peakRss = rss;
  atPeak = process.memoryUsage();
}
const sampler = setInterval(samplePeak, 20);
sampler.unref();

serveParent(
  async (cmd, args) => {
    switch (cmd) {
      case 'reset':
        await allocations?.start((args as { phase?: string } | undefined)?.phase ?? 'phase');
        tracer?.reset();
        delay.reset();
        peakRss = 0;
        samplePeak();
        cpuAtReset = process.cpuUsage();
        return null;
      case 'sample': {
        const cpu = process.cpuUsage(cpuAtReset);
        const allocationProfile = await allocations?.stop();
        samplePeak();
        const mib = (n: number): number => Math.round((n / MiB) * 10) / 10;
        return {
          peakRssMiB: mib(peakRss),
          peakMemoryMiB: { heapTotal: mib(atPeak.heapTotal), heapUsed: mib(atPeak.heapUsed), external: mib(atPeak.external), arrayBuffers: mib(atPeak.arrayBuffers) },
          cpuSeconds: Math.round((cpu.user + cpu.system) / 1e3) / 1e3,
          eventLoopDelayP99Ms: Math.round((delay.percentile(99) / 1e6) * 100) / 100,
          startRssMiB: mib(startRss),
          source: agent.source.stats(),
          ...(tracer === undefined ? {} : { loopTrace: tracer.summary() }),
          ...(allocationProfile === undefined ? {} : { allocationProfile }),
        };
      }
      case 'rotate': {
        // One cycle of the agent's own rotation reconciler (how secretlet rotates), timed here.
        const started = performance.now();
        const report = await agent.rotation?.runCycle();
        const durationMs = Math.round((performance.now() - started) * 10) / 10;
        // The pod-status patches the cycle caused follow it; the phase's counters must include them.
        await agent.podStatusFollower?.idle();
        const settledMs = Math.round((performance.now() - started) * 10) / 10;
        return { durationMs, podStatusesSettledMs: settledMs, rewritten: report?.rewritten.length ?? 0, failed: report?.failed.length ?? 0, firstError: report?.failed[0]?.reason };
      }
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  },
  async () => {
    clearInterval(sampler);
    tracer?.stop();
    allocations?.close();
    await agent.stop();
  },
);

process.send?.({ type: 'ready', pid: process.pid });
