/**
 * A measurement, not a test (vitest does not pick it up): what a tmpfs volume costs the node when
 * the mount helper makes the mount(2)/umount2(2) calls itself (koffi, the default) versus when it
 * spawns mount(8)/umount(8) (its fallback, and what every volume cost before). The cost lands in
 * the helper process and its children, so it is read from /proc/<helper>/stat (user + system,
 * reaped children included; 10 ms ticks), next to this process's own CPU.
 *
 *   npx tsx bench/micro/mount-syscalls.ts (as root) [pairs=200]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { HelperProcessCommandRunner } from '../../src/adapters/fs/command-runner-helper.js';
import { TmpfsMounter } from '../../src/adapters/fs/tmpfs-mounter.js';

const PAIRS = Number(process.argv[2] ?? 200);
const TICK_MS = 10; // CLK_TCK 100 on Linux

/** utime + stime + cutime + cstime of a process, in ticks (fields 14-17 of /proc/<pid>/stat). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
}

async function measure(name: string, helper: HelperProcessCommandRunner, mounter: TmpfsMounter, concurrency: number): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'mount-syscalls-'));
  const targets = Array.from({ length: PAIRS }, (_, i) => join(root, `t${i}`));
  for (const t of targets) await mkdir(t);
  // Warm-up outside the measurement: starts the helper (and loads koffi on the syscall path).
  await mounter.mount(targets[0]!, { sizeBytes: 65536 });
  await mounter.unmount(targets[0]!);
  const pid = helper.pid;
  if (pid === undefined) throw new Error('the helper is not running');
  const before = cpuTicks(pid);
  const cpu = process.cpuUsage();
  const start = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < targets.length) {
      const target = targets[next++]!;
      await mounter.mount(target, { sizeBytes: 65536 });
      await mounter.unmount(target);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const wallMs = performance.now() - start;
  const own = process.cpuUsage(cpu);
  const helperMs = (cpuTicks(pid) - before) * TICK_MS;
  console.log(
    `${name.padEnd(28)} concurrency ${String(concurrency).padStart(2)}: wall ${(wallMs / PAIRS).toFixed(2)} ms/pair, ` +
      `helper+children CPU ${(helperMs / PAIRS).toFixed(2)} ms/pair, this process ${((own.user + own.system) / 1000 / PAIRS).toFixed(2)} ms/pair`,
  );
  await rm(root, { recursive: true });
}

for (const concurrency of [1, 16]) {
  const syscalls = new HelperProcessCommandRunner();
  await measure('syscalls (default)', syscalls, new TmpfsMounter({ calls: syscalls, rootMode: 0o755 }), concurrency);
  await syscalls.close();
  const commands = new HelperProcessCommandRunner({ tmpfsVia: 'command' });
  await measure('mount(8)/umount(8) fallback', commands, new TmpfsMounter({ calls: commands, rootMode: 0o755 }), concurrency);
  await commands.close();
}
console.log(`${PAIRS} pairs each; ${new Date().toISOString()}; node ${process.version}`);
