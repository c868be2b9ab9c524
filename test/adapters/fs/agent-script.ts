/**
 * Runs lines of TypeScript in a separate Node process that stands in for the agent, with `runner`
 * (a HelperProcessCommandRunner) already constructed, so a test can watch or kill "the agent" and
 * its mount helper from outside. `prelude` lines go first (imports, small helpers). What the
 * script prints on stdout is collected.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../../support/paths.js';

export async function spawnAgentScript(options: { dir: string; lines: string[]; prelude?: string[] }): Promise<{ child: ChildProcess; out: () => string }> {
  const script = join(options.dir, 'agent.mts');
  const runnerUrl = pathToFileURL(join(REPO_ROOT, 'src/adapters/fs/command-runner-helper.ts')).href;
  await writeFile(
    script,
    [
      ...(options.prelude ?? []),
      `import { HelperProcessCommandRunner } from ${JSON.stringify(runnerUrl)};`,
      'const runner = new HelperProcessCommandRunner();',
      ...options.lines,
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  return { child, out: () => out };
}
