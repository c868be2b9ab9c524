import { describe, expect, it } from 'vitest';
import { buildProgram } from './program.js';
import { serveArgv } from './serve-argv.js';
import { UpstreamFlagError, translateUpstreamArgs } from './upstream-flags.js';

// The `args:` of the upstream DaemonSets (driver.md §6.3-6.4, aws-provider.md §1.1), as kubelet passes
// them once it has substituted $(CSI_ENDPOINT) and $(KUBE_NODE_NAME).
const DRIVER_ARGS = [
  '--endpoint=unix:///csi/csi.sock',
  '--nodeid=ip-10-0-1-7.ec2.internal',
  '--provider-volume=/var/run/secrets-store-csi-providers',
  '--additional-provider-volume-paths=/etc/kubernetes/secrets-store-csi-providers',
  '--enable-secret-rotation=true',
  '--rotation-poll-interval=90s',
  '--metrics-addr=:8095',
  '--provider-health-check=false',
  '--max-call-recv-msg-size=4194304',
  '-v=5',
];
const PROVIDER_ARGS = ['--provider-volume=/etc/kubernetes/secrets-store-csi-providers', '--qps=5', '--burst=10'];

describe('translateUpstreamArgs', () => {
  it("turns the driver DaemonSet's flags into secretlet's and drops those with no equivalent", () => {
    const t = translateUpstreamArgs(DRIVER_ARGS);
    expect(t.args).toEqual([
      '--csi-endpoint=unix:///csi/csi.sock',
      '--node-name=ip-10-0-1-7.ec2.internal',
      '--provider-socket=/var/run/secrets-store-csi-providers/aws.sock',
      '--rotation-interval=90s',
      '--metrics-addr=:8095',
    ]);
    expect(t.role).toBe('driver');
    expect(t.notes).toContain('-nodeid=ip-10-0-1-7.ec2.internal: --node-name=ip-10-0-1-7.ec2.internal');
    expect(t.notes.find((n) => n.startsWith('-enable-secret-rotation=true: ignored'))).toBeDefined();
    expect(t.notes.find((n) => n.startsWith('-v=5: ignored, klog verbosity'))).toBeDefined();
  });

  it("turns the AWS provider DaemonSet's flags into the socket path and calls it the provider's role", () => {
    const t = translateUpstreamArgs(PROVIDER_ARGS);
    expect(t.args).toEqual(['--provider-socket=/etc/kubernetes/secrets-store-csi-providers/aws.sock']);
    expect(t.role).toBe('provider');
    expect(translateUpstreamArgs(['--provider-volume=/x/']).args).toEqual(['--provider-socket=/x/aws.sock']);
    expect(translateUpstreamArgs(['--provider-volume=/x/']).role).toBe('provider');
  });

  it("reads Go's flag forms: one dash, a separate value, bool flags with and without =value", () => {
    expect(translateUpstreamArgs(['-nodeid', 'n1', '-endpoint=unix:///a.sock']).args).toEqual(['--node-name=n1', '--csi-endpoint=unix:///a.sock']);
    expect(translateUpstreamArgs(['--driver-writes-secrets']).args).toEqual(['--driver-writes-secrets=true']);
    expect(translateUpstreamArgs(['-driver-writes-secrets=1']).args).toEqual(['--driver-writes-secrets=true']);
    // A bool flag takes no separate value: what follows is the next argument.
    expect(translateUpstreamArgs(['--enable-secret-rotation', '--region', 'eu-west-1']).args).toEqual(['--region', 'eu-west-1']);
  });

  it('hands an explicit false of --driver-writes-secrets on, so it beats SECRETLET_DRIVER_WRITES_SECRETS', () => {
    const t = translateUpstreamArgs(['--driver-writes-secrets=false']);
    expect(t.args).toEqual(['--driver-writes-secrets=false']);
    expect(t.notes).toEqual(['-driver-writes-secrets=false: --driver-writes-secrets=false']);
  });

  it("reads secretlet's own `--driver-writes-secrets false` form as false, and says so", () => {
    const t = translateUpstreamArgs(['--driver-writes-secrets', 'false', '--mode', 'provider']);
    expect(t.args).toEqual(['--driver-writes-secrets=false', '--mode', 'provider']);
    expect(t.notes).toEqual(['-driver-writes-secrets=false: --driver-writes-secrets=false']);
    // An option after it is not its value.
    expect(translateUpstreamArgs(['--driver-writes-secrets', '--mode', 'provider']).args).toEqual(['--driver-writes-secrets=true', '--mode', 'provider']);
    expect(() => translateUpstreamArgs(['--driver-writes-secrets', 'maybe'])).toThrow(new UpstreamFlagError('invalid boolean value "maybe" for -driver-writes-secrets'));
  });

  it("accepts and ignores klog's flags, which upstream DaemonSets and operators pass, logging each", () => {
    const klog = ['--logtostderr', '--alsologtostderr=false', '--log_file=/var/log/driver.log', '--log_dir', '/var/log', '-stderrthreshold=INFO', '--vmodule=server=5', '--skip_headers', '--log_file_max_size=1800', '--one_output=true', '--add_dir_header', '--skip_log_headers'];
    const t = translateUpstreamArgs([...klog, '--mode', 'provider']);
    expect(t.args).toEqual(['--mode', 'provider']);
    expect(t.role).toBeUndefined();
    expect(t.notes).toEqual([
      '-logtostderr=true: ignored, klog output setting; secretlet always logs JSON lines to stdout',
      '-alsologtostderr=false: ignored, klog output setting; secretlet always logs JSON lines to stdout',
      '-log_file=/var/log/driver.log: ignored, klog output setting; secretlet always logs JSON lines to stdout',
      '-log_dir=/var/log: ignored, klog output setting; secretlet always logs JSON lines to stdout',
      '-stderrthreshold=INFO: ignored, klog output setting; secretlet always logs JSON lines to stdout',
      '-vmodule=server=5: ignored, klog per-file verbosity; use --log-level',
      '-skip_headers=true: ignored, klog output setting; secretlet always logs JSON lines to stdout',
      '-log_file_max_size=1800: ignored, klog output setting; secretlet always logs JSON lines to stdout',
      '-one_output=true: ignored, klog output setting; secretlet always logs JSON lines to stdout',
      '-add_dir_header=true: ignored, klog output setting; secretlet always logs JSON lines to stdout',
      '-skip_log_headers=true: ignored, klog output setting; secretlet always logs JSON lines to stdout',
    ]);
  });

  it("passes secretlet's own arguments and unknown ones through for commander to judge", () => {
    const own = ['--mode', 'both', '--state-dir', '/var/lib/secretlet', '--metrics-addr=:9000', '--no-such-flag'];
    const t = translateUpstreamArgs(own);
    expect(t.args).toEqual(own);
    expect(t.notes).toEqual([]);
    expect(t.role).toBeUndefined();
    // secretlet's own switch alone does not pick a door.
    expect(translateUpstreamArgs(['--driver-writes-secrets']).role).toBeUndefined();
    expect(translateUpstreamArgs(['--log-level', 'debug']).args).toEqual(['--log-level', 'debug']);
  });

  it('rejects a value flag without its value and a bool flag with a non-bool value, naming the flag', () => {
    expect(() => translateUpstreamArgs(['--nodeid'])).toThrow(new UpstreamFlagError('flag needs an argument: -nodeid'));
    expect(() => translateUpstreamArgs(['--enable-secret-rotation=yes'])).toThrow(new UpstreamFlagError('invalid boolean value "yes" for -enable-secret-rotation'));
  });
});

describe('secretlet serve with a name that Object.prototype has', () => {
  /** `secretlet <argv>` through the upstream translation and commander, with a stand-in agent. */
  async function serve(argv: string[]): Promise<void> {
    const translated = serveArgv(['node', 'secretlet', 'serve', ...argv]);
    const program = buildProgram(translated.notes, { serve: async () => undefined, bench: async () => 0 });
    // A parse error throws here instead of exiting the test process.
    for (const command of [program, ...program.commands]) command.exitOverride().configureOutput({ writeErr: () => undefined });
    await program.parseAsync(translated.argv);
  }

  // `constructor` is the one inherited member the flag pattern (lower case first) can spell.
  it('refuses --constructor as an unknown option, as it does --bogus', async () => {
    await expect(serve(['--mode=provider', '--bogus', 'x'])).rejects.toThrow("error: unknown option '--bogus'");
    await expect(serve(['--mode=provider', '--constructor', 'x'])).rejects.toThrow("error: unknown option '--constructor'");
    await expect(serve(['--mode=provider', '-constructor=x'])).rejects.toThrow("error: unknown option '-constructor=x'");
  });

  it('passes --constructor through untranslated, with no "ignored" note', () => {
    const t = translateUpstreamArgs(['--constructor', 'x']);
    expect(t.args).toEqual(['--constructor', 'x']);
    expect(t.notes).toEqual([]);
    expect(t.role).toBeUndefined();
  });
});
