/**
 * Starts the local AWS and Kubernetes emulators and a real Agent wired to them, with its doors on
 * Unix sockets in a fresh temp dir, for integration tests. Everything is torn down by `stop()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/adapters/logging/logger.js';
import type { Logger } from '../../src/adapters/logging/logger.js';
import { compileAgentOptions } from '../../src/config/agent-options.js';
import type { AgentOptions } from '../../src/config/agent-options.js';
import type { VolumeMounter } from '../../src/core/ports/volume-mounter.js';
import { startLocalStack } from '../../src/emulators/local-stack.js';
import type { LocalStack, LocalStackOptions } from '../../src/emulators/local-stack.js';
import { Agent } from '../../src/main/agent.js';

export interface Harness {
  stack: LocalStack;
  agent: Agent;
  dir: string;
  providerSocket: string;
  csiEndpoint: string;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  agent?: AgentOptions;
  stack?: LocalStackOptions;
  mounter?: VolumeMounter;
  logger?: Logger;
}

/** Where an agent under test finds its sockets, state dir and the local emulators. */
export type AgentPlaces = Pick<Harness, 'dir' | 'stack' | 'csiEndpoint' | 'providerSocket'>;

/** The options every test agent runs with against the local stack; `extra` wins. */
export function localAgentOptions(places: AgentPlaces, extra: AgentOptions = {}): AgentOptions {
  return {
    mode: 'both',
    nodeName: 'node-1',
    providerSocket: places.providerSocket,
    csiEndpoint: places.csiEndpoint,
    kubeconfig: places.stack.kubeconfigPath,
    awsEndpoint: places.stack.aws.url,
    podIdentityEndpoint: places.stack.aws.podIdentityUrl,
    stateDir: join(places.dir, 'state'),
    metricsAddr: '127.0.0.1:0',
    fleetSize: 1,
    poolSize: 0,
    logLevel: 'silent',
    ...extra,
  };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'secretlet-it-'));
  const stack = await startLocalStack({ ...options.stack, dir: join(dir) });
  const providerSocket = join(dir, 'provider', 'aws.sock');
  const csiEndpoint = `unix://${join(dir, 'csi', 'csi.sock')}`;
  const agent = Agent.create(
    compileAgentOptions(localAgentOptions({ dir, stack, csiEndpoint, providerSocket }, options.agent)),
    {
      logger: options.logger ?? createLogger({ level: 'silent' }),
      ...(options.mounter ? { mounter: options.mounter } : {}),
    },
  );
  try {
    await agent.start();
  } catch (e) {
    // Leave nothing behind when start-up fails: emulators, sockets and the temp dir.
    await agent.stop().catch(() => undefined);
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    stack,
    agent,
    dir,
    providerSocket,
    csiEndpoint,
    async stop() {
      await agent.stop();
      await stack.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
