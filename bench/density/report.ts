/**
 * Writes the generated part of bench/README.md (between the `results:start` / `results:end` markers)
 * from a results file: the measurements, each target with where the figure stands, and the fleet
 * projection. The hand-written text around the markers is kept.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectFleet } from './projection.js';
import type { Projection } from './projection.js';
import type { ResultsFile, RunEntry } from './types.js';

const START = '<!-- results:start -->';
const END = '<!-- results:end -->';

function calls(e: RunEntry): string {
  return Object.entries(e.awsCalls)
    .map(([a, n]) => `${a.replace('GetSecretValue', 'GSV').replace('AssumeRoleWithWebIdentity', 'STS').replace('PodIdentityGetCredentials', 'PodId')} ${n}`)
    .join(', ');
}

function table(runs: readonly RunEntry[]): string {
  const head =
    '| strategy | door | P | RTT ms | pool | phase | AWS calls (total) | by action | cred calls | kube calls | all mounted ms | p50 / p99 / max ms | RSS MiB start / peak | CPU s | ELD p99 ms | failed |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n';
  return (
    head +
    runs
      .map(
        (e) =>
          `| ${label(e)} | ${e.door}${e.door === 'csi' ? (e.tmpfs ? ' (tmpfs)' : ' (no tmpfs)') : ''} | ${e.pods} | ${e.rttMs} | ${e.poolSize} | ${e.phase} | ${e.awsCallsTotal} | ${calls(e)} | ${e.credentialCalls} | ${e.kubeCalls} | ${e.allMountedMs} | ${e.mountLatencyMs.p50} / ${e.mountLatencyMs.p99} / ${e.mountLatencyMs.max} | ${e.agentStartRssMiB ?? '–'} / ${e.peakRssMiB} | ${e.cpuSeconds} | ${e.eventLoopDelayP99Ms} | ${e.failures} |`,
      )
      .join('\n')
  );
}

/** A configuration of the agent: strategy, the opt-in value cache, and the pool size (its default depends on the cores). */
function label(e: RunEntry): string {
  const strategy = e.valueCacheTtl === undefined ? e.strategy : `${e.strategy} (value cache ${e.valueCacheTtl})`;
  const mix = e.podsPerIdentity === undefined ? '' : `, ${e.podsPerIdentity} pods per identity`;
  const quotas = e.accountQuotas === undefined ? '' : `, account quotas ${e.accountQuotas}`;
  return `${strategy}, pool ${e.poolSize}${mix}${quotas}`;
}

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? 'not measured' : ok ? 'meets' : 'MISSES';
}

function targets(all: readonly RunEntry[]): string {
  // The targets are stated for the issue's mix (S = P/10) and the agent's defaults.
  const runs = all.filter((e) => e.podsPerIdentity === undefined && e.accountQuotas === undefined);
  const rows: string[] = ['| configuration | target | measured | verdict |', '|---|---|---|---|'];
  const pick = (f: (e: RunEntry) => boolean): RunEntry[] => runs.filter(f);
  const maxP = Math.max(...runs.map((r) => r.pods));
  const rtt = runs.some((r) => r.rttMs === 20) ? 20 : (runs[0]?.rttMs ?? 0);
  const at = `P=${maxP}, RTT ${rtt} ms`;
  const allOurs = pick((e) => e.strategy === 'secretlet' && e.pods === maxP && e.rttMs === rtt);
  const theirs = pick((e) => e.strategy === 'per-mount' && e.pods === maxP && e.rttMs === rtt);
  const s = Math.ceil(maxP / 10);
  const burstTarget = s * 3;
  const cycleTarget = s * 2;
  const perMountTarget = maxP * 10;
  const fmt = (xs: RunEntry[], f: (e: RunEntry) => number): string => (xs.length === 0 ? '–' : [...new Set(xs.map(f))].join(' / '));
  const burstTheirs = theirs.filter((e) => e.phase === 'burst');
  // One block of rows per secretlet configuration (pool size, and the opt-in value cache).
  for (const variant of [...new Set(allOurs.map(label))]) {
    const ours = allOurs.filter((e) => label(e) === variant);
    const burstOurs = ours.filter((e) => e.phase === 'burst');
    rows.push(`| ${variant} | cold burst ${at}: AWS+STS calls = ${burstTarget} (per-mount ${perMountTarget}) | ${fmt(burstOurs, (e) => e.awsCallsTotal)}; per-mount ${fmt(burstTheirs, (e) => e.awsCallsTotal)} | ${verdict(burstOurs.length ? burstOurs.every((e) => e.awsCallsTotal <= burstTarget) : undefined)} |`);
    const bestOurs = Math.min(...burstOurs.map((e) => e.allMountedMs));
    const bestTheirs = Math.min(...burstTheirs.map((e) => e.allMountedMs));
    const ratio = burstOurs.length && burstTheirs.length ? Math.round((bestTheirs / bestOurs) * 10) / 10 : undefined;
    rows.push(`| ${variant} | time to all-mounted ≥ 10× shorter | ${ratio === undefined ? '–' : `${bestOurs} ms vs ${bestTheirs} ms (×${ratio})`} | ${verdict(ratio === undefined ? undefined : ratio >= 10)} |`);
    rows.push(`| ${variant} | mount p99 < 10 × RTT (${10 * rtt} ms) in the burst | ${fmt(burstOurs, (e) => e.mountLatencyMs.p99)} ms | ${verdict(burstOurs.length ? burstOurs.every((e) => e.mountLatencyMs.p99 < 10 * rtt) : undefined)} |`);
    for (const phase of ['republish', 'rotation'] as const) {
      const o = ours.filter((e) => e.phase === phase);
      const t = theirs.filter((e) => e.phase === phase);
      // The reconciler's cycle also covers the warm-up pod's identity (mounted before the burst): S + 1 identities.
      const target = phase === 'rotation' ? cycleTarget + 2 : cycleTarget;
      const what = phase === 'rotation' ? `${target} over S+1 identities incl. the warm-up one; ${cycleTarget} over S` : `${target}`;
      rows.push(`| ${variant} | ${phase} cycle: AWS calls = ${what} (per-mount ${perMountTarget}) | ${fmt(o, (e) => e.awsCallsTotal)}; per-mount ${fmt(t, (e) => e.awsCallsTotal)} | ${verdict(o.length ? o.every((e) => e.awsCallsTotal <= target) : undefined)} |`);
    }
    rows.push(`| ${variant} | agent peak RSS < 150 MiB at ${at} | ${fmt(ours, (e) => e.peakRssMiB)} MiB | ${verdict(ours.length ? ours.every((e) => e.peakRssMiB < 150) : undefined)} |`);
    rows.push(`| ${variant} | event-loop delay p99 < 20 ms in the burst | ${fmt(burstOurs, (e) => e.eventLoopDelayP99Ms)} ms | ${verdict(burstOurs.length ? burstOurs.every((e) => e.eventLoopDelayP99Ms < 20) : undefined)} |`);
    const visible = ours.filter((e) => e.phase === 'rotation');
    rows.push(`| ${variant} | rotated values reach the pods' files | ${visible.filter((e) => e.rotationVisible === true).length}/${visible.length} runs | ${verdict(visible.length ? visible.every((e) => e.rotationVisible === true) : undefined)} |`);
  }
  return rows.join('\n');
}

function projection(p: Projection | undefined): string {
  if (p === undefined || p.rows.length === 0) return '_no rotation data_';
  const lines = [
    `Cycle: every pod re-fetched every ${p.cycleSeconds} s. Rate = calls per node per cycle × nodes / ${p.cycleSeconds} s, per account and Region.`,
    '',
    '| strategy | action | calls / node / cycle | quota TPS | 100 nodes: TPS (share) | 1,000 nodes: TPS (share) |',
    '|---|---|---|---|---|---|',
    ...p.rows.map((r) => {
      const cell = (n: string): string => `${r.rates[n]} (${r.shareOfQuota[n] === undefined ? 'no published quota' : `${Math.round((r.shareOfQuota[n] ?? 0) * 1000) / 10}%`})`;
      return `| ${r.strategy} | ${r.action} | ${r.callsPerNodePerCycle} | ${r.quotaTps ?? '–'} | ${cell('100')} | ${cell('1000')} |`;
    }),
    '',
    `Basis: ${[...new Set(p.rows.map((r) => `${r.strategy}: ${r.basis}`))].join('; ')}.`,
    '',
    `SSM GetParameters needs the higher-throughput tier (standard is 40 TPS per account and Region) from: ${Object.entries(p.ssmHigherTierFromNodes)
      .map(([s, n]) => `${s} ${n === undefined ? 'never' : `${n} nodes`}`)
      .join(', ')}.`,
  ];
  return lines.join('\n');
}

export interface MergedResults {
  sources: Array<{ file: string; command: string; machine: string; date: string }>;
  runs: RunEntry[];
  projection: Projection;
}

/** Every results file of the directory, oldest first; a later run of the same configuration replaces an earlier one. */
export async function mergedResults(dir: string): Promise<MergedResults> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const byKey = new Map<string, RunEntry>();
  const sources: MergedResults['sources'] = [];
  const loaded = await Promise.all(files.map(async (f) => ({ f, r: JSON.parse(await readFile(join(dir, f), 'utf8')) as ResultsFile })));
  loaded.sort((a, b) => (a.r.date < b.r.date ? -1 : 1));
  for (const { f, r } of loaded) {
    sources.push({ file: `bench/results/${f}`, command: r.command, machine: r.machine, date: r.date });
    for (const e of r.runs) byKey.set([e.strategy, e.valueCacheTtl ?? '', e.podsPerIdentity ?? '', e.accountQuotas ?? '', e.door, e.pods, e.rttMs, e.poolSize, e.phase].join('|'), e);
  }
  const runs = [...byKey.values()].sort((a, b) => a.pods - b.pods || a.rttMs - b.rttMs || a.door.localeCompare(b.door) || a.strategy.localeCompare(b.strategy) || a.poolSize - b.poolSize);
  return { sources, runs, projection: projectFleet(runs) };
}

export async function updateReadme(path: string, results: MergedResults): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => `# Benchmarks\n\n${START}\n${END}\n`);
  const generated = [
    START,
    '_Generated from:_',
    '',
    ...results.sources.map((s) => `- \`${s.command}\` → \`${s.file}\` (${s.machine}, ${s.date})`),
    '',
    '### Measurements',
    '',
    table(results.runs),
    '',
    '### Targets',
    '',
    targets(results.runs),
    '',
    '### Fleet projection',
    '',
    projection(results.projection),
    END,
  ].join('\n');
  const s = current.indexOf(START);
  const e = current.indexOf(END);
  const next = s >= 0 && e > s ? `${current.slice(0, s)}${generated}${current.slice(e + END.length)}` : `${current.trimEnd()}\n\n${generated}\n`;
  await writeFile(path, next);
}
