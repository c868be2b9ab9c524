/**
 * Every serve flag is documented in `secretlet serve --help` with its environment variable, can be
 * set through that variable, and the README's configuration reference is the generated one.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { extractConfigReference, renderConfigReference, replaceConfigReference } from '../../src/cli/config-reference.js';
import { SERVE_FLAGS } from '../../src/cli/serve-flags.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

async function secretlet(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('secretlet serve --help', () => {
  it('lists every flag with its environment variable', async () => {
    const { code, stdout } = await secretlet(['serve', '--help']);
    expect(code).toBe(0);
    const text = stdout.replace(/\s+/g, ' ');
    for (const f of SERVE_FLAGS) {
      expect(text, f.flag).toContain(`--${f.flag}`);
      expect(text, f.env).toContain(`env: ${f.env}`);
    }
  }, 60_000);

  it('reads flags from the environment (a bad value there is reported by its variable)', async () => {
    const { code, stderr } = await secretlet(['serve'], { SECRETLET_MODE: 'sideways', SECRETLET_METRICS_ADDR: '' });
    expect(code).not.toBe(0);
    expect(stderr).toContain('secretlet: SECRETLET_MODE must be one of kubelet, provider, both (got "sideways")');
  }, 60_000);

  it('refuses an --account-quotas entry for an action that has no budget, naming the option', async () => {
    const { code, stderr } = await secretlet(['serve', '--mode=provider', '--account-quotas', 'GetParameter=3000'], { SECRETLET_METRICS_ADDR: '' });
    expect(code).not.toBe(0);
    expect(stderr).toContain('secretlet: --account-quotas names "GetParameter", which has no budget');
  }, 60_000);

  it('reads the value of an on/off flag from its variable, not just whether it is set', async () => {
    // Before, SECRETLET_DRIVER_WRITES_SECRETS=false turned the mode on: any value counted as set.
    const { code, stderr } = await secretlet(['serve', '--mode=provider'], { SECRETLET_DRIVER_WRITES_SECRETS: 'no-thanks', SECRETLET_METRICS_ADDR: '' });
    expect(code).not.toBe(0);
    // The value came from the variable, so the message names the variable.
    expect(stderr).toContain('secretlet: SECRETLET_DRIVER_WRITES_SECRETS must be true or false (got "no-thanks")');
  }, 60_000);
});

describe('configuration reference', () => {
  it('has one row per serve flag, naming flag, variable and default', () => {
    const text = renderConfigReference();
    for (const f of SERVE_FLAGS) expect(text).toContain(`| \`${f.env}\` | \`${f.defaultText}\` |`);
    expect(text.split('\n').filter((l) => l.startsWith('| `--'))).toHaveLength(SERVE_FLAGS.length);
  });

  it('is what README.md holds between the markers (regenerate: npm run secretlet -- docs config-reference --write README.md)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(extractConfigReference(readme)).toBe(renderConfigReference());
  });

  it('replaces only the marked section', () => {
    const doc = 'before\n<!-- BEGIN config-reference: generated from src/cli/serve-flags.ts by src/cli/config-reference.ts; do not edit -->\nold\n<!-- END config-reference -->\nafter\n';
    const updated = replaceConfigReference(doc, 'new');
    expect(updated).toBe(doc.replace('\nold\n', '\nnew\n'));
    expect(() => replaceConfigReference('no markers')).toThrow(/markers are missing/);
  });
});
