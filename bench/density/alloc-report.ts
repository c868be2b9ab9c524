/**
 * Summarises a `.heapprofile` written by `bench:density -- --alloc-profile <dir>` (alloc-sampler.ts):
 * the sampled bytes a phase allocated, by package, and by the nearest secretlet frame on the stack
 * (the code of ours that asked for the allocation, whichever library made it). Run the bench with
 * `--agent compiled` for this: the bundle has one file, so every frame would be "the bundle".
 *
 * Usage: npx tsx bench/density/alloc-report.ts <file.heapprofile> [--top 25] [--per <n>]
 *   --per divides every figure by n (e.g. the phase's mounts) and prints KB instead of MB.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { callFrame: CallFrame; selfSize: number; children?: ProfileNode[] }

const program = new Command()
  .name('alloc-report')
  .argument('<file>', 'a .heapprofile from --alloc-profile')
  .option('--top <n>', 'rows per table', '25')
  .option('--per <n>', 'divide by n (e.g. mounts in the phase) and print KB', '1');
program.parse();
const o = program.opts<{ top: string; per: string }>();
const top = Number(o.top);
const per = Number(o.per);
if (!Number.isInteger(top) || top <= 0) throw new Error(`--top must be a positive integer, not ${o.top}`);
if (!(per > 0)) throw new Error(`--per must be a positive number, not ${o.per}`);

const profile = JSON.parse(readFileSync(program.args[0] ?? '', 'utf8')) as { head: ProfileNode };

function packageOf(url: string): string {
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep?.[1] !== undefined) return dep[1];
  const own = /\/src\/([^/]+\/[^/]+)/.exec(url);
  if (own?.[1] !== undefined) return `secretlet:${own[1]}`;
  return url === '' ? '(native)' : url.startsWith('node:') ? url : url.split('/').slice(-2).join('/');
}

const isOurs = (f: CallFrame): boolean => f.url.includes('/src/') && !f.url.includes('node_modules');
const label = (f: CallFrame): string => `${f.functionName || '(anon)'} ${f.url.split('/src/').pop() ?? f.url}:${f.lineNumber + 1}`;

const byPackage = new Map<string, number>();
const byOurFrame = new Map<string, number>();
const add = (m: Map<string, number>, k: string, n: number): void => void m.set(k, (m.get(k) ?? 0) + n);
let total = 0;

// Iterative walk: allocation stacks can be deeper than a comfortable recursion.
const stack: Array<{ node: ProfileNode; frames: CallFrame[] }> = [{ node: profile.head, frames: [] }];
while (stack.length > 0) {
  const { node, frames } = stack.pop()!;
  const path = [...frames, node.callFrame];
  if (node.selfSize > 0) {
    total += node.selfSize;
    add(byPackage, packageOf(node.callFrame.url), node.selfSize);
    const ours = path.findLast(isOurs);
    const outermostLibrary = path.find((f) => f.url.includes('node_modules'));
    add(byOurFrame, ours !== undefined ? label(ours) : `(no secretlet frame) ${outermostLibrary === undefined ? 'node internals' : packageOf(outermostLibrary.url)}`, node.selfSize);
  }
  for (const child of node.children ?? []) stack.push({ node: child, frames: path });
}

const unit = per === 1 ? { div: 1e6, name: 'MB' } : { div: 1e3 * per, name: 'KB' };
const fmt = (n: number): string => (n / unit.div).toFixed(1).padStart(9);
const pct = (n: number): string => `${((100 * n) / total).toFixed(1).padStart(5)} %`;
console.log(`sampled allocations: ${fmt(total).trim()} ${unit.name}${per === 1 ? '' : ` per 1/${per} of the phase`}`);
for (const [title, table] of [['by package', byPackage], ['by nearest secretlet frame', byOurFrame]] as const) {
  console.log(`\n${title} (${unit.name})`);
  for (const [k, n] of [...table].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${fmt(n)} ${pct(n)}  ${k}`);
}
