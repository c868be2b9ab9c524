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

  it('refuses JSON that is not a container resources object or a toleration list, naming the flag and the key', async () => {
    await expect(parse(['manifests', '--resources', '"x"'])).rejects.toThrow(/^--resources must be an object with limits, requests or claims \(got a string\)$/);
    await expect(parse(['manifests', '--resources', '[]'])).rejects.toThrow(/^--resources must be an object .* \(got a list\)$/);
    await expect(parse(['manifests', '--resources', '{"limit":{"memory":"1Gi"}}'])).rejects.toThrow(/^--resources: limit is not a field of a container's resources \(limits, requests, claims\)$/);
    await expect(parse(['manifests', '--resources', '{"limits":{"memory":"lots"}}'])).rejects.toThrow('--resources: limits.memory must be a quantity like 50m or 128Mi (got "lots")');
    await expect(parse(['manifests', '--tolerations', '[{"operator":"Exists"},{"keys":"a"}]'])).rejects.toThrow(/^--tolerations: \[1\]\.keys is not a field of a toleration/);
  });

  it.each([
    [['--mode', 'both'], '--mode must be one of kubelet, provider (got "both")'],
    [['--priority-class', 'Urgent'], '--priority-class must be a DNS-1123 subdomain (got "Urgent")'],
    [['--kubelet-root-dir', 'var/lib/kubelet'], '--kubelet-root-dir must be an absolute, normalised path without a trailing slash (got "var/lib/kubelet")'],
    [['--rotation-interval', '2x'], '--rotation-interval must be a duration like 300ms, 90s, 1m30s, 2m or 1h (got "2x")'],
    [['--account-quotas', 'GetParameters=0'], /^--account-quotas gives GetParameters/],
  ])('names the flag typed in %j', async (args, message) => {
    const refused = parse(['manifests', ...args]);
    await expect(refused).rejects.toThrow(message);
    await expect(refused).rejects.not.toThrow(/options\./);
  });
});

describe('secretlet emulate', () => {
  it.each([
    [['aws', '--port', 'abc'], '--port must be a whole number (got "abc")'],
    [['aws', '--port', '70000'], '--port must be a port, 0 to 65535 (got "70000")'],
    [['aws', '--latency', 'fast'], '--latency must be a whole number (got "fast")'],
    [['kube', '--port', 'abc'], '--port must be a whole number (got "abc")'],
  ])('%j names the flag before starting anything', async (args, message) => {
    await expect(parse(['emulate', ...args])).rejects.toThrow(message);
  });

  it('names SECRETLET_AWS_PORT / SECRETLET_KUBE_PORT when the bad port came from there', async () => {
    vi.stubEnv('SECRETLET_AWS_PORT', 'abc');
    vi.stubEnv('SECRETLET_KUBE_PORT', '-1');
    await expect(parse(['emulate', 'aws'])).rejects.toThrow('SECRETLET_AWS_PORT must be a whole number (got "abc")');
    await expect(parse(['emulate', 'kube'])).rejects.toThrow('SECRETLET_KUBE_PORT must be a whole number (got "-1")');
  });
});

describe('secretlet serve values from the environment', () => {
  it.each([
    ['SECRETLET_FLEET_SIZE', 'abc', 'SECRETLET_FLEET_SIZE must be a whole number (got "abc")'],
    ['SECRETLET_SYNC_SECRETS', 'no', 'SECRETLET_SYNC_SECRETS must be true or false (got "no")'],
    ['SECRETLET_DRIVER_WRITES_SECRETS', 'maybe', 'SECRETLET_DRIVER_WRITES_SECRETS must be true or false (got "maybe")'],
  ])('names %s when its value is refused', async (name, value, message) => {
    vi.stubEnv(name, value);
    await expect(parse(['serve', '--mode=provider'])).rejects.toThrow(message);
  });

  it('names the flag when the flag, not the variable, gave the value', async () => {
    vi.stubEnv('SECRETLET_FLEET_SIZE', '10');
    await expect(parse(['serve', '--fleet-size=abc'])).rejects.toThrow('--fleet-size must be a whole number (got "abc")');
    expect((await parse(['serve', '--mode=provider'])).serve[0]).toMatchObject({ fleetSize: 10 });
  });
});
