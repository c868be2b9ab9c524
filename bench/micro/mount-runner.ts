/**
 * A measurement, not a test (vitest does not pick it up): the agent-side cost of 300 tmpfs
 * mount+umount pairs run directly (spawn from this process) versus through the mount helper
 * process, from a process inflated to ~250 MiB RSS like the agent in the density benchmark; and
 * the mount-point check over a mountinfo of 800 lines, parsed versus searched.
 *
 *   npx tsx bench/micro/mount-runner.ts (as root) [pairs=300] [concurrency=16]
 *
 * Reports main-process CPU (process.cpuUsage: user+system, the fork's page-table copy is system
 * time) and event-loop delay (perf_hooks.monitorEventLoopDelay) per runner.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { DirectCommandRunner } from '../../src/adapters/fs/command-runner.js';
import type { CommandRunner } from '../../src/adapters/fs/command-runner.js';
import { HelperProcessCommandRunner } from '../../src/adapters/fs/command-runner-helper.js';
import { listsMountPoint, parseMountPoints } from '../../src/adapters/fs/mountinfo.js';

const PAIRS = Number(process.argv[2] ?? 300);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const INFLATE_MIB = 250;

async function check(runner: CommandRunner, command: string, args: string[]): Promise<void> {
  const r = await runner.run(command, args);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr || `exit ${r.code}`}`);
}

async function pairs(runner: CommandRunner, targets: string[]): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < targets.length) {
      const target = targets[next++]!;
      await check(runner, 'mount', ['-t', 'tmpfs', '-o', 'size=65536,mode=0755', 'tmpfs', target]);
      await check(runner, 'umount', [target]);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
}

async function measure(name: string, runner: CommandRunner, targets: string[]): Promise<void> {
  await check(runner, '/bin/true', []); // warm-up: starts the helper outside the measurement
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await pairs(runner, targets);
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  delay.disable();
  const ms = (ns: number): string => (ns / 1e6).toFixed(1);
  console.log(
    `${name.padEnd(8)} ${PAIRS} pairs, concurrency ${CONCURRENCY}: wall ${wallMs.toFixed(0)} ms, ` +
      `agent CPU user ${(used.user / 1000).toFixed(0)} ms + sys ${(used.system / 1000).toFixed(0)} ms ` +
      `(${((used.user + used.system) / 1000 / (2 * PAIRS)).toFixed(2)} ms/command), ` +
      `loop delay p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} max ${ms(delay.max)} ms`,
  );
}

function mountinfoCheck(): void {
  const lines = Array.from(
    { length: 800 },
    (_, i) => `${100 + i} 22 0:${50 + i} / /var/lib/kubelet/pods/${i.toString(16).padStart(8, '0')}-uid/volumes/kubernetes.io~csi/vol/mount rw,relatime shared:${i} - tmpfs tmpfs rw,size=65536k,mode=755`,
  );
  const text = lines.join('\n') + '\n';
  const probe = '/var/lib/kubelet/pods/00000190-uid/volumes/kubernetes.io~csi/vol/mount';
  const rounds = 2000;
  for (const [name, fn] of [
    ['parse', () => parseMountPoints(text).includes(probe)],
    ['search', () => listsMountPoint(text, probe)],
  ] as const) {
    const start = performance.now();
    for (let i = 0; i < rounds; i++) if (!fn()) throw new Error('not found');
    console.log(`mountinfo ${name.padEnd(6)} 800 lines: ${(((performance.now() - start) * 1000) / rounds).toFixed(1)} µs/check`);
  }
}

async function main(): Promise<void> {
  mountinfoCheck();
  const ballast = Buffer.alloc(INFLATE_MIB * 1024 * 1024);
  ballast.fill(1); // touch every page so it is resident (and in the page tables a fork copies)
  console.log(`RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
  const dir = await mkdtemp(join(tmpdir(), 'secretlet-measure-'));
  const targets = Array.from({ length: PAIRS }, (_, i) => join(dir, `t${i}`));
  await Promise.all(targets.map((t) => mkdir(t)));
  const helper = new HelperProcessCommandRunner();
  try {
    for (let round = 0; round < 2; round++) {
      await measure('direct', new DirectCommandRunner(), targets);
      await measure('helper', helper, targets);
    }
  } finally {
    await helper.close();
    for (const t of targets) await new DirectCommandRunner().run('umount', [t]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
  if (ballast[0] !== 1) throw new Error('unreachable');
}

await main();
