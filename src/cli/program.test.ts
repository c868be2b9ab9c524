/**
 * What commander makes of a command line, seen through stand-in runners (no agent, no benchmark).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentOptions } from '../config/agent-options.js';
import { buildProgram } from './program.js';
import { serveArgv } from './serve-argv.js';

async function parse(argv: string[]): Promise<{ serve: AgentOptions[]; bench: Array<[string, string[]]> }> {
  const seen = { serve: [] as AgentOptions[], bench: [] as Array<[string, string[]]> };
  const translated = serveArgv(['node', 'secretlet', ...argv]);
  const program = buildProgram(translated.notes, {
    serve: async (options) => void seen.serve.push(options),
    bench: async (which, args) => (seen.bench.push([which, args]), 0),
  });
  // A parse error throws here instead of exiting the test process.
  for (const command of [program, ...program.commands]) command.exitOverride().configureOutput({ writeErr: () => undefined });
  await program.parseAsync(translated.argv);
  return seen;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('secretlet bench', () => {
  it("hands the benchmark's own options to its script", async () => {
    expect((await parse(['bench', 'micro', '--quick'])).bench).toEqual([['micro', ['--quick']]]);
    expect((await parse(['bench', 'density', '--quick', '--rtt', '20'])).bench).toEqual([['density', ['--quick', '--rtt', '20']]]);
    expect((await parse(['bench', 'micro', '--time', '500'])).bench).toEqual([['micro', ['--time', '500']]]);
  });
});

describe('secretlet serve --driver-writes-secrets', () => {
  it('lets an explicit false on the command line beat SECRETLET_DRIVER_WRITES_SECRETS=true', async () => {
    vi.stubEnv('SECRETLET_DRIVER_WRITES_SECRETS', 'true');
    expect((await parse(['serve', '--mode=provider'])).serve[0]?.driverWritesSecrets).toBe(true);
    expect((await parse(['serve', '--mode=provider', '--driver-writes-secrets=false'])).serve[0]?.driverWritesSecrets).toBe(false);
    expect((await parse(['serve', '--mode=provider', '-driver-writes-secrets=false'])).serve[0]?.driverWritesSecrets).toBe(false);
    expect((await parse(['serve', '--driver-writes-secrets', 'false', '--mode=provider'])).serve[0]?.driverWritesSecrets).toBe(false);
  });

  it('reads the bare flag and the Go forms of true as true', async () => {
    vi.stubEnv('SECRETLET_DRIVER_WRITES_SECRETS', 'false');
    expect((await parse(['serve', '--mode=provider', '--driver-writes-secrets'])).serve[0]?.driverWritesSecrets).toBe(true);
    expect((await parse(['serve', '--mode=provider', '-driver-writes-secrets=1'])).serve[0]?.driverWritesSecrets).toBe(true);
  });
});

describe('secretlet manifests', () => {
  it('names the option whose JSON does not parse', async () => {
    await expect(parse(['manifests', '--resources', '{bad'])).rejects.toThrow(/^--resources must be JSON: /);
    await expect(parse(['manifests', '--tolerations', '[x'])).rejects.toThrow(/^--tolerations must be JSON: /);
  });

  it('names --fleet-size when it is not a whole number, quoting what was given', async () => {
    await expect(parse(['manifests', '--fleet-size', '1e3'])).rejects.toThrow('--fleet-size must be a whole number (got "1e3")');
  });
});
