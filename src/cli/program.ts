/**
 * The `secretlet` command line: every command and its options. Along with serve-argv.ts, the only
 * place that reads process.env (through each option's `.env()`), and only when a command runs.
 */
import { Command, Option } from 'commander';
import { compileAgentOptions } from '../config/agent-options.js';
import type { AgentOptions } from '../config/agent-options.js';
import type { KubeObject } from '../manifests/index.js';
import { SECRETLET_VERSION } from '../main/version.js';
import { SERVE_FLAGS, flagSyntax } from './serve-flags.js';
import type { FlagDefinition } from './serve-flags.js';

const out = (line: string): void => void process.stdout.write(line + '\n');
const err = (line: string): void => void process.stderr.write(line + '\n');

/**
 * What the long-running commands do once their arguments are parsed; a caller (a test) may replace
 * them to see what commander made of a command line without starting an agent or a benchmark.
 */
export interface CommandRunners {
  /**
   * Runs the agent; the default compiles the options, serves until SIGTERM and exits. `fromEnv`:
   * the options whose value came from their SECRETLET_* variable, so an error names that instead.
   */
  serve(options: AgentOptions, upstreamNotes: readonly string[], fromEnv?: ReadonlySet<string>): Promise<void>;
  /** Runs a benchmark script with `args`; resolves to its exit code. */
  bench(which: string, args: string[]): Promise<number>;
}

const DEFAULT_RUNNERS: CommandRunners = {
  async serve(options, upstreamNotes, fromEnv = new Set()) {
    let code: number;
    try {
      const compiled = compileAgentOptions(options);
      const { runServe } = await import('./serve.js');
      code = await runServe(compiled, upstreamNotes);
    } catch (e) {
      // The agent names its options (options.fleetSize); an operator typed flags (--fleet-size).
      throw new Error(inFlagWords(e instanceof Error ? e.message : String(e), serveFlagWords(fromEnv)), { cause: e });
    }
    // Exit explicitly once drained: a handle left open by a dependency (a keep-alive socket to an
    // AWS endpoint that stopped answering) must not keep a terminated pod around past its grace period.
    process.exit(code);
  },
  async bench(which, args) {
    const { runBench } = await import('./bench.js');
    return runBench(which, args);
  },
};

/**
 * An agent or manifests message in the words the user typed: `options.fleetSize` → what
 * `wordsFor('fleetSize')` says (`--fleet-size`, or `SECRETLET_FLEET_SIZE` when the value came from
 * there); a path into a JSON option stays after it: `options.resources.limits.cpu` → `--resources: limits.cpu`.
 * Keys `wordsFor` does not know are left as they are.
 */
export function inFlagWords(message: string, wordsFor: (key: string) => string | undefined): string {
  return message.replace(/\boptions\.([A-Za-z]+)((?:\.[\w-]+|\[\d+\])*)/g, (whole, key: string, path: string) => {
    const words = wordsFor(key);
    if (words === undefined) return whole;
    return path === '' ? words : `${words}: ${path.replace(/^\./, '')}`;
  });
}

/** A serve option's words: its SECRETLET_* variable if `fromEnv` has it, else its flag. */
function serveFlagWords(fromEnv: ReadonlySet<string>): (key: string) => string | undefined {
  return (key) => {
    const flag = SERVE_FLAGS.find((f) => f.key === key);
    if (flag === undefined) return undefined;
    return fromEnv.has(flag.key) ? flag.env : `--${flag.flag}`;
  };
}

/**
 * How the user gave `cmd` its option `attribute`: the environment variable when the value came from
 * there, else the flag. Undefined for an option `cmd` does not have.
 */
function givenAs(cmd: Command, attribute: string): string | undefined {
  const option = cmd.options.find((o) => o.attributeName() === attribute);
  if (option === undefined) return undefined;
  return cmd.getOptionValueSource(attribute) === 'env' && option.envVar !== undefined ? option.envVar : option.long;
}

/**
 * A serve value as the agent takes it. Parsed here rather than in an argParser, which runs before
 * commander records whether the value came from the flag or the variable, and so could not name the right one.
 */
function serveValue(f: FlagDefinition, value: string, name: string): string | number | boolean {
  if (f.kind === 'number') return integerOption(value, name);
  if (f.kind === 'switch' || f.kind === 'boolean') return booleanOption(value, name);
  return value;
}

function serveCommand(upstreamNotes: readonly string[], run: CommandRunners['serve']): Command {
  const cmd = new Command('serve').description('Run the node agent (kubelet door, provider door, or both).');
  for (const f of SERVE_FLAGS) {
    const opt = new Option(flagSyntax(f), `${f.description} (default: ${f.defaultText})`).env(f.env);
    // A bare `--flag` means true. Its value stays optional rather than absent: commander sets a
    // valueless option from its environment variable whatever the value, so FOO=false would turn it on.
    if (f.kind === 'boolean') opt.preset('true');
    cmd.addOption(opt);
  }
  cmd.action(async (raw: Record<string, unknown>) => {
    const options: AgentOptions = {};
    const fromEnv = new Set<string>();
    for (const f of SERVE_FLAGS) {
      if (cmd.getOptionValueSource(camel(f.flag)) === 'env') fromEnv.add(f.key);
      const value = raw[camel(f.flag)] as string | undefined;
      if (value !== undefined) (options as Record<string, unknown>)[f.key] = serveValue(f, value, givenAs(cmd, camel(f.flag))!);
    }
    // The downward API and the SDK's own variable, as the DaemonSet and ASCP users set them.
    options.nodeName ??= process.env['NODE_NAME'];
    options.region ??= process.env['AWS_REGION'];
    await run(options, upstreamNotes, fromEnv);
  });
  return cmd;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function buildProgram(upstreamNotes: readonly string[] = [], runners: Partial<CommandRunners> = {}): Command {
  const run: CommandRunners = { ...DEFAULT_RUNNERS, ...runners };
  const program = new Command('secretlet')
    .description('Delivers AWS Secrets Manager and SSM Parameter Store secrets into Kubernetes pods: a drop-in for the Secrets Store CSI Driver with the AWS provider.')
    .version(SECRETLET_VERSION);

  program.addCommand(serveCommand(upstreamNotes, run.serve));

  program
    .command('dev')
    .description('Start local AWS and Kubernetes emulators, seed a demo, start the agent and mount the demo SecretProviderClass (no cloud account needed).')
    .option('--once', 'exit after the demo mount instead of serving until Ctrl-C')
    .addOption(new Option('--log-level <level>', 'agent log level').default('warn').env('SECRETLET_LOG_LEVEL'))
    .action(async (o: { once?: boolean; logLevel: string }) => {
      const { runDev } = await import('./dev.js');
      await runDev({ once: o.once ?? false, logLevel: o.logLevel as never, out });
    });

  const emulate = program.command('emulate').description('Run a local emulator for your own charts and demos.');
  emulate
    .command('aws')
    .description('Local AWS endpoint: Secrets Manager, SSM, STS and the EKS Pod Identity agent.')
    .addOption(new Option('--port <n>', 'port').default('4566').env('SECRETLET_AWS_PORT'))
    .addOption(new Option('--host <addr>', 'bind address').default('127.0.0.1'))
    .addOption(new Option('--latency <ms>', 'added round-trip latency').default('0'))
    .addOption(new Option('--seed <file>', 'YAML/JSON seed: secrets, parameters, roles, podIdentityAssociations, trustedIssuers (e.g. src/emulators/aws/example-seed.yaml)'))
    .addOption(new Option('--trust-kube <kubeconfig>', "accept the service-account tokens of that kubeconfig's API server (e.g. secretlet emulate kube's)"))
    .addOption(new Option('--quotas <list>', "throttle like AWS: 'aws' for its default quotas, or Action=callsPerSecond items (A+B=n share one bucket), e.g. aws,GetParameter+GetParameters=3000"))
    .action(async (o: { port: string; host: string; latency: string; seed?: string; trustKube?: string; quotas?: string }, cmd: Command) => {
      const port = portOption(o.port, givenAs(cmd, 'port')!);
      const latencyMs = integerOption(o.latency, givenAs(cmd, 'latency')!);
      const { runEmulateAws } = await import('./emulate-aws.js');
      await runEmulateAws({
        port,
        host: o.host,
        latencyMs,
        ...(o.seed === undefined ? {} : { seed: o.seed }),
        ...(o.trustKube === undefined ? {} : { trustKube: o.trustKube }),
        ...(o.quotas === undefined ? {} : { quotas: o.quotas }),
        out,
        untilStopped: waitForSignal,
      });
    });
  emulate
    .command('kube')
    .description('Local Kubernetes API server for the resources secretlet uses; writes a kubeconfig.')
    .addOption(new Option('--port <n>', 'port').default('0').env('SECRETLET_KUBE_PORT'))
    .addOption(new Option('--kubeconfig <file>', 'where to write the kubeconfig').default('./secretlet-kubeconfig'))
    .action(async (o: { port: string; kubeconfig: string }, cmd: Command) => {
      const port = portOption(o.port, givenAs(cmd, 'port')!);
      const { startKubeEmulator } = await import('../emulators/kube/index.js');
      const kube = await startKubeEmulator({ port });
      // A server left listening after a failure would keep the command alive with nothing to use.
      await kube.writeKubeconfig(o.kubeconfig).catch(async (e: unknown) => {
        await kube.stop();
        throw e;
      });
      out(`local Kubernetes API server on ${kube.url}; kubeconfig written to ${o.kubeconfig}`);
      out(`export KUBECONFIG=${o.kubeconfig}`);
      await waitForSignal();
      await kube.stop();
    });

  program
    .command('manifests')
    .description('Print the install manifests (deploy/overlays/kubelet or deploy/overlays/provider), customised, for `| kubectl apply -f -`.')
    .addOption(new Option('--mode <mode>', 'kubelet or provider').default('kubelet'))
    .option('--namespace <ns>', 'namespace of the agent')
    .option('--image <image>', 'agent image (pinned tag or digest)')
    .option('--region <region>', 'default AWS region')
    .option('--rotation-interval <d>', 'rotation interval, e.g. 2m')
    .option('--log-level <level>', 'agent log level')
    .option('--fleet-size <n>', 'nodes sharing the AWS account and region (per-node call budgets are the account quotas divided by it)')
    .option('--account-quotas <list>', "the account's quotas where they differ from AWS's, e.g. GetParameters=3000")
    .option('--priority-class <name>', 'priority class name')
    .option('--resources <json>', 'secretlet container resources as JSON')
    .option('--tolerations <json>', 'pod tolerations as JSON')
    .option('--sync-secrets <bool>', 'kubelet mode: false turns Secret sync off and drops the ClusterRole\'s access to Secrets')
    .option('--kubelet-root-dir <path>', "kubelet mode: kubelet's root directory where it is not /var/lib/kubelet")
    .action(async (o: Record<string, string | undefined>, cmd: Command) => {
      const { renderManifests, toYaml } = await import('../manifests/index.js');
      let objects: KubeObject[];
      try {
        objects = renderManifests({
          mode: o['mode'] as never,
          ...(o['namespace'] ? { namespace: o['namespace'] } : {}),
          ...(o['image'] ? { image: o['image'] } : {}),
          ...(o['region'] ? { region: o['region'] } : {}),
          ...(o['rotationInterval'] ? { rotationInterval: o['rotationInterval'] } : {}),
          ...(o['logLevel'] ? { logLevel: o['logLevel'] as never } : {}),
          ...(o['fleetSize'] ? { fleetSize: integerOption(o['fleetSize'], '--fleet-size') } : {}),
          ...(o['accountQuotas'] ? { accountQuotas: o['accountQuotas'] } : {}),
          ...(o['priorityClass'] !== undefined ? { priorityClassName: o['priorityClass'] } : {}),
          ...(o['resources'] ? { resources: jsonOption(o['resources'], '--resources') as never } : {}),
          ...(o['tolerations'] ? { tolerations: jsonOption(o['tolerations'], '--tolerations') as never } : {}),
          ...(o['syncSecrets'] !== undefined ? { syncSecrets: booleanOption(o['syncSecrets'], '--sync-secrets') } : {}),
          ...(o['kubeletRootDir'] !== undefined ? { kubeletRootDir: o['kubeletRootDir'] } : {}),
        });
      } catch (e) {
        throw inManifestsFlagWords(e, cmd);
      }
      process.stdout.write(toYaml(objects));
    });

  program
    .command('validate')
    .description('Check SecretProviderClass files offline with exactly the errors a mount would give; checks every file, exits 1 if any is bad.')
    .argument('<files...>', 'YAML files (multi-document allowed)')
    .addOption(new Option('--region <region>', 'region a mount would resolve when the SPC names none').env('AWS_REGION'))
    .action(async (files: string[], o: { region?: string }) => {
      const { runValidate } = await import('./validate.js');
      process.exitCode = await runValidate(files, { ...(o.region ? { region: o.region } : {}), out, err });
    });

  program
    .command('docs')
    .description('Print (or --write into a README) the generated configuration reference.')
    .argument('<section>', 'config-reference')
    .option('--write <file>', 'replace the section between the markers in this file')
    .action(async (section: string, o: { write?: string }) => {
      if (section !== 'config-reference') throw new Error(`unknown docs section "${section}" (config-reference)`);
      const { renderConfigReference, writeConfigReference } = await import('./config-reference.js');
      if (o.write === undefined) out(renderConfigReference());
      else out((await writeConfigReference(o.write)) ? `${o.write}: configuration reference updated` : `${o.write}: already current`);
    });

  program
    .command('bench')
    .description('Run the benchmarks: `micro` (tinybench) or `density` (node-density driver); extra arguments go to the driver.')
    .argument('<which>', 'micro or density')
    .argument('[args...]', 'arguments for the benchmark, e.g. --quick')
    // The benchmark scripts parse their own options (--quick, --time …): commander hands them on.
    .allowUnknownOption()
    .action(async (which: string, args: string[]) => {
      process.exitCode = await run.bench(which, args);
    });

  return program;
}

/** The ManifestOptions keys whose flag is not the key in kebab case. */
const MANIFESTS_ATTRIBUTES: Readonly<Record<string, string>> = { priorityClassName: 'priorityClass' };

/** A `manifests` error as the user reads it: options.priorityClassName → --priority-class. */
function inManifestsFlagWords(e: unknown, cmd: Command): Error {
  const message = inFlagWords(e instanceof Error ? e.message : String(e), (key) => givenAs(cmd, MANIFESTS_ATTRIBUTES[key] ?? key));
  return new Error(message, { cause: e });
}

/** true or false, with an error that names the option. */
function booleanOption(value: string, flag: string): boolean {
  if (value !== 'true' && value !== 'false') throw new Error(`${flag} must be true or false (got "${value}")`);
  return value === 'true';
}

/** A JSON-valued option, with an error that names it. */
function jsonOption(value: string, flag: string): unknown {
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new Error(`${flag} must be JSON: ${(e as Error).message}`);
  }
}

/** Whole decimal numbers only: Number() would take 0x10, 1e1, '' or ' 7 ' without a word. */
function integerOption(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`${flag} must be a whole number (got "${value}")`);
  return Number(value);
}

/** A TCP port; 0 lets the system pick one (the emulators print where they listen). */
function portOption(value: string, flag: string): number {
  const port = integerOption(value, flag);
  if (port > 65535) throw new Error(`${flag} must be a port, 0 to 65535 (got "${value}")`);
  return port;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

