/**
 * The one duration grammar of every secretlet option (agent flags and `secretlet manifests`): Go's
 * `time.Duration` syntax, because the upstream DaemonSets pass their values straight through
 * (`--rotation-poll-interval=1m30s`, or `2m0s` as Go prints durations). A duration is a sequence of
 * decimal numbers each with a unit (ns, us or its micro-sign spellings, ms, s, m, h), e.g. 1m30s, 1.5h, 300ms; `0` alone is
 * zero. Beyond Go, a bare number means seconds, as secretlet has always read `90`. Intervals cannot
 * be negative, so a sign is refused; results are whole milliseconds, the timers' resolution.
 */
import { invalidArgument } from '../core/errors.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  // Escaped on purpose: a character beyond Latin-1 anywhere in the bundled agent makes V8 keep the
  // whole 4 MB source as two bytes per character (+4 MiB RSS, measured). The bundle test checks it.
  '\u00b5s': 1e-3, // micro sign
  '\u03bcs': 1e-3, // Greek mu; Go accepts both
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

// Terms of digits with an optional fraction (Go allows `.5` and `5.`, not `.`), each with a unit.
const TERM = /(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g;
const TERMS = new RegExp(`^(?:${TERM.source})+$`);
const BARE_SECONDS = /^(\d+\.?\d*|\.\d+)$/;
// Every duration option ends up as a timer delay, and Node fires a timer longer than 2^31 - 1 ms
// (about 24.8 days) after 1 ms instead: a rotation interval of 1000h would rotate continuously.
const MAX_MS = 2 ** 31 - 1;

/** Milliseconds in `value`; errors name `options.<option>`. */
export function parseDuration(value: string, option: string): number {
  const text = value.trim();
  const invalid = (): never => {
    throw invalidArgument('InvalidOption', `options.${option} must be a duration like 300ms, 90s, 1m30s, 2m or 1h (got "${value}")`, option);
  };
  if (text.startsWith('-')) throw invalidArgument('InvalidOption', `options.${option} must not be negative (got "${value}")`, option);
  let ms = 0;
  if (BARE_SECONDS.test(text)) ms = Number(text) * 1000;
  else if (TERMS.test(text)) for (const [, number, unit] of text.matchAll(TERM)) ms += Number(number) * UNIT_MS[unit!]!;
  else invalid();
  if (ms > MAX_MS) throw invalidArgument('InvalidOption', `options.${option} must be at most 596h, the longest timer (got "${value}")`, option);
  const whole = Math.round(ms);
  // A rotation interval of 0 turns the reconciler off: a positive value must not round to that.
  if (ms > 0 && whole === 0) throw invalidArgument('InvalidOption', `options.${option} must be 0 or at least 1ms (got "${value}")`, option);
  return whole;
}
