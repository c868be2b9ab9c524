/**
 * Fleet projection: what a rotation cycle measured on one node means for an AWS account when 100 or
 * 1,000 such nodes rotate every 2 minutes, against the per-account, per-Region quotas
 * (shared/spec/aws-quotas.md), and from what fleet size SSM GetParameters outgrows the standard
 * throughput tier (40 TPS).
 */
import { ACCOUNT_QUOTAS } from '../../src/adapters/aws/rate-budget.js';
import type { RunEntry, Strategy } from './types.js';

export const CYCLE_SECONDS = 120;
export const FLEETS = [100, 1000];
/** GetParameters higher-throughput tier ([verify] in aws-quotas.md: 10,000 TPS; older copies say 3,000). */
export const SSM_HIGHER_TPS = 10_000;

export interface ProjectionRow {
  strategy: Strategy;
  basis: string;
  action: string;
  callsPerNodePerCycle: number;
  quotaTps: number | undefined;
  rates: Record<string, number>;
  shareOfQuota: Record<string, number | undefined>;
}

export interface Projection {
  cycleSeconds: number;
  rows: ProjectionRow[];
  /** Smallest fleet whose GetParameters rate exceeds the 40 TPS standard tier, per strategy. */
  ssmHigherTierFromNodes: Record<string, number | undefined>;
}

function quotaOf(action: string): number | undefined {
  return (ACCOUNT_QUOTAS as Record<string, number>)[action];
}

/** Uses the rotation phase of the largest, most realistic run of each strategy. */
export function projectFleet(runs: readonly RunEntry[]): Projection {
  const rows: ProjectionRow[] = [];
  const ssmHigherTierFromNodes: Record<string, number | undefined> = {};
  for (const strategy of ['secretlet', 'per-mount'] as const) {
    // The mix (S = P/10) and default budgets only: a node of one identity, or of one per pod, projects differently.
    const candidates = runs.filter((r) => r.strategy === strategy && r.phase === 'rotation' && r.failures === 0 && r.podsPerIdentity === undefined && r.accountQuotas === undefined);
    const best = [...candidates].sort((a, b) => b.pods - a.pods || Number(b.door === 'csi') - Number(a.door === 'csi') || Math.abs(a.rttMs - 20) - Math.abs(b.rttMs - 20))[0];
    if (best === undefined) continue;
    const basis = `rotation phase, P=${best.pods}, ${best.door} door, RTT ${best.rttMs} ms, pool ${best.poolSize}`;
    for (const [action, calls] of Object.entries(best.awsCalls)) {
      const quota = quotaOf(action);
      const rates: Record<string, number> = {};
      const share: Record<string, number | undefined> = {};
      for (const n of FLEETS) {
        rates[String(n)] = Math.round(((calls * n) / CYCLE_SECONDS) * 10) / 10;
        share[String(n)] = quota === undefined ? undefined : Math.round((rates[String(n)]! / quota) * 1000) / 1000;
      }
      rows.push({ strategy, basis, action, callsPerNodePerCycle: calls, quotaTps: quota, rates, shareOfQuota: share });
    }
    const ssm = best.awsCalls['GetParameters'] ?? 0;
    ssmHigherTierFromNodes[strategy] = ssm === 0 ? undefined : Math.floor((40 * CYCLE_SECONDS) / ssm) + 1;
  }
  return { cycleSeconds: CYCLE_SECONDS, rows, ssmHigherTierFromNodes };
}
