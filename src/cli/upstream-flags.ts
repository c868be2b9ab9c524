/**
 * The arguments of the upstream DaemonSets, accepted by `secretlet serve` so that swapping the image of
 * the Secrets Store CSI Driver (driver.md §6.3) or of the AWS provider (aws-provider.md §1.1) keeps
 * their `args:` working. Go's flag package allows `-name` as well as `--name`, and `=value` or a
 * separate value; each upstream flag becomes its secretlet equivalent, or is dropped with a note when
 * secretlet has no such knob. Arguments that are not upstream flags pass through untouched, so
 * commander still rejects a typo.
 */

import { goParseBool } from '../core/spc/go-text.js';

export type UpstreamRole = 'driver' | 'provider';

interface UpstreamFlag {
  /** Go bool flags take no separate value (`-flag` alone is true; `-flag=false` is false). */
  bool: boolean;
  /**
   * A bool flag that is also secretlet's own, whose `--flag false` form (commander's) reads the next
   * argument as the value when it is not an option; Go would stop parsing there instead.
   */
  separateValue?: boolean;
  /** Which upstream binary has it; `shared` where both do, or where secretlet has the same flag. */
  from: UpstreamRole | 'shared';
  /** The secretlet arguments it becomes; absent: dropped, and `why` says what to use instead. */
  to?: (value: string) => string[];
  why?: string;
}

const KLOG_OUTPUT = 'klog output setting; secretlet always logs JSON lines to stdout';

const UPSTREAM_FLAGS: Readonly<Record<string, UpstreamFlag>> = {
  // Secrets Store CSI Driver (driver.md §6.3).
  endpoint: { bool: false, from: 'driver', to: (v) => [`--csi-endpoint=${v}`] },
  nodeid: { bool: false, from: 'driver', to: (v) => [`--node-name=${v}`] },
  drivername: { bool: false, from: 'driver', to: (v) => [`--driver-name=${v}`] },
  'rotation-poll-interval': { bool: false, from: 'driver', to: (v) => [`--rotation-interval=${v}`] },
  'enable-secret-rotation': { bool: true, from: 'driver', why: 'secretlet always refreshes live mounts every --rotation-interval (0 turns its reconciler off)' },
  'additional-provider-volume-paths': { bool: false, from: 'driver', why: 'secretlet fetches from AWS itself and calls no provider' },
  'max-call-recv-msg-size': { bool: false, from: 'driver', why: 'secretlet calls no provider' },
  'provider-health-check': { bool: true, from: 'driver', why: 'secretlet calls no provider' },
  'provider-health-check-interval': { bool: false, from: 'driver', why: 'secretlet calls no provider' },
  'metrics-backend': { bool: false, from: 'driver', why: 'secretlet serves Prometheus metrics only' },
  'enable-pprof': { bool: true, from: 'driver', why: 'no Go profiler here; use node --cpu-prof' },
  'pprof-port': { bool: false, from: 'driver', why: 'no Go profiler here; use node --cpu-prof' },
  'log-format-json': { bool: true, from: 'driver', why: 'secretlet always logs JSON' },
  // klog's flags (klog.InitFlags: the driver's and the provider's binaries both register them).
  v: { bool: false, from: 'shared', why: 'klog verbosity; use --log-level' },
  vmodule: { bool: false, from: 'shared', why: 'klog per-file verbosity; use --log-level' },
  logtostderr: { bool: true, from: 'shared', why: KLOG_OUTPUT },
  alsologtostderr: { bool: true, from: 'shared', why: KLOG_OUTPUT },
  stderrthreshold: { bool: false, from: 'shared', why: KLOG_OUTPUT },
  log_dir: { bool: false, from: 'shared', why: KLOG_OUTPUT },
  log_file: { bool: false, from: 'shared', why: KLOG_OUTPUT },
  log_file_max_size: { bool: false, from: 'shared', why: KLOG_OUTPUT },
  one_output: { bool: true, from: 'shared', why: KLOG_OUTPUT },
  skip_headers: { bool: true, from: 'shared', why: KLOG_OUTPUT },
  skip_log_headers: { bool: true, from: 'shared', why: KLOG_OUTPUT },
  add_dir_header: { bool: true, from: 'shared', why: KLOG_OUTPUT },
  log_backtrace_at: { bool: false, from: 'shared', why: KLOG_OUTPUT },
  // Both: the driver searches this directory for provider sockets, the provider listens in it.
  'provider-volume': { bool: false, from: 'shared', to: (v) => [`--provider-socket=${v.replace(/\/+$/, '')}/aws.sock`] },
  // AWS provider (aws-provider.md §1.1). secretlet has a flag of this name; Go's form may carry
  // `=true` or `=false`. Both values reach commander, so an explicit false beats the environment
  // variable as any flag does. (`--metrics-addr`, the driver's, is secretlet's own flag and passes through.)
  'driver-writes-secrets': { bool: true, separateValue: true, from: 'shared', to: (v) => [`--driver-writes-secrets=${v}`] },
  qps: { bool: false, from: 'provider', why: 'secretlet sets no client-side rate limit on its API server calls' },
  burst: { bool: false, from: 'provider', why: 'secretlet sets no client-side rate limit on its API server calls' },
  'eks-addon-version': { bool: false, from: 'provider', why: 'it only changes the SDK user agent' },
  'pod-identity-http-timeout': { bool: false, from: 'provider', why: "secretlet's Pod Identity call has its own fixed 5 s timeout per attempt (retried)" },
};

/** Each secretlet flag an upstream flag of another name becomes, with those upstream names. */
const MAPPED_TARGETS: ReadonlyMap<string, string[]> = (() => {
  const targets = new Map<string, string[]>();
  for (const [name, flag] of Object.entries(UPSTREAM_FLAGS)) {
    const target = /^--([a-z-]+)=/.exec(flag.to?.('x')[0] ?? '')?.[1];
    if (target === undefined || target === name) continue;
    targets.set(target, [...(targets.get(target) ?? []), name]);
  }
  return targets;
})();

/**
 * The table's own entries only: indexing the object literal would also find what it inherits from
 * Object.prototype, so `--constructor x` was swallowed as an "ignored" upstream flag instead of
 * reaching commander, which refuses it as an unknown option.
 */
function upstreamFlag(name: string): UpstreamFlag | undefined {
  return Object.hasOwn(UPSTREAM_FLAGS, name) ? UPSTREAM_FLAGS[name] : undefined;
}

export interface TranslatedArgs {
  args: string[];
  /** One line per upstream flag seen, saying what it became; for the start-up log. */
  notes: string[];
  /**
   * `provider` when only the AWS provider's flags were given (its DaemonSet, image swapped): the
   * caller runs the provider door unless a mode was chosen. `driver` when a driver-only flag was.
   */
  role: UpstreamRole | undefined;
}

export class UpstreamFlagError extends Error {}

/** Translates `serve`'s arguments (those after `serve`). */
export function translateUpstreamArgs(args: readonly string[]): TranslatedArgs {
  const out: string[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const m = /^--?([a-z][a-z0-9_-]*)(?:=(.*))?$/s.exec(arg);
    const flag = m?.[1] === undefined ? undefined : upstreamFlag(m[1]);
    if (m === null || flag === undefined) {
      out.push(arg);
      continue;
    }
    const name = m[1] ?? '';
    let value = m[2];
    if (flag.bool) {
      const next = args[i + 1];
      if (value === undefined && flag.separateValue === true && next !== undefined && !next.startsWith('-')) value = args[++i];
      const parsed = value === undefined ? true : goParseBool(value);
      if (parsed === undefined) throw new UpstreamFlagError(`invalid boolean value "${value ?? ''}" for -${name}`);
      value = String(parsed);
    } else if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new UpstreamFlagError(`flag needs an argument: -${name}`);
    }
    seen.add(name);
    if (flag.to) {
      const mapped = flag.to(value);
      out.push(...mapped);
      notes.push(`-${name}=${value}: ${mapped.join(' ')}`);
    } else {
      notes.push(`-${name}=${value}: ignored, ${flag.why ?? ''}`);
    }
  }
  refuseDoubleSettings(out);
  return { args: out, notes, role: roleOf(seen) };
}

/**
 * An upstream flag and the secretlet flag it becomes (`-endpoint` and `--csi-endpoint`,
 * `-provider-volume` and `--provider-socket`…), or two upstream flags becoming one, would leave
 * commander to keep the last and the start-up note to name the other: refuse the pair instead.
 */
function refuseDoubleSettings(args: readonly string[]): void {
  const given = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(args[i] ?? '');
    if (m?.[1] === undefined || !MAPPED_TARGETS.has(m[1])) continue;
    const value = m[2] ?? args[i + 1] ?? '';
    const earlier = given.get(m[1]);
    if (earlier !== undefined && earlier !== value) {
      const sources = MAPPED_TARGETS.get(m[1])?.map((u) => `-${u}`).join(' or ') ?? '';
      throw new UpstreamFlagError(`--${m[1]} is set twice (${earlier} and ${value}), directly or through ${sources}: give one`);
    }
    given.set(m[1], value);
  }
}

/**
 * A driver-only flag means the driver's DaemonSet. Otherwise a provider-only flag, or the provider
 * volume (which the AWS provider's DaemonSet passes, often alone), means the provider's.
 */
function roleOf(seen: ReadonlySet<string>): UpstreamRole | undefined {
  const from = [...seen].map((n) => upstreamFlag(n)?.from);
  if (from.includes('driver')) return 'driver';
  if (from.includes('provider') || seen.has('provider-volume')) return 'provider';
  return undefined;
}
