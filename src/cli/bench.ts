/** `secretlet bench micro|density`: runs the benchmark scripts in bench/ from a source checkout. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findPackageRoot } from '../manifests/index.js';

export async function runBench(which: string, args: string[]): Promise<number> {
  if (which !== 'micro' && which !== 'density') {
    process.stderr.write(`secretlet bench: unknown benchmark "${which}" (micro or density)\n`);
    return 2;
  }
  const root = findPackageRoot();
  const script = join(root, 'bench', which, 'run.ts');
  if (!existsSync(script)) {
    process.stderr.write(`secretlet bench: ${script} not found (benchmarks run from a source checkout)\n`);
    return 2;
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit', cwd: root });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
