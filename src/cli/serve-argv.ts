/**
 * The argv `secretlet serve` parses. `serve` also takes the upstream DaemonSets' flags
 * (upstream-flags.ts). The AWS provider's flags alone mean its DaemonSet with the image swapped:
 * the provider door, unless a mode was chosen.
 */
import { translateUpstreamArgs } from './upstream-flags.js';

export function serveArgv(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { argv: string[]; notes: string[] } {
  if (argv[2] !== 'serve') return { argv: [...argv], notes: [] };
  const t = translateUpstreamArgs(argv.slice(3));
  const modeChosen = t.args.some((a) => a === '--mode' || a.startsWith('--mode=')) || env['SECRETLET_MODE'] !== undefined;
  const implied = t.role === 'provider' && !modeChosen ? ['--mode=provider'] : [];
  const notes = implied.length > 0 ? [...t.notes, 'only the AWS provider\'s flags were given: --mode=provider'] : t.notes;
  return { argv: [...argv.slice(0, 3), ...t.args, ...implied], notes };
}
