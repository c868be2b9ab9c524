/**
 * `secretlet dev`: the README's first command. Starts the local AWS endpoint and Kubernetes API
 * server, seeds a demo, starts the agent with its provider door, mounts the demo
 * SecretProviderClass through that door as the upstream driver would, prints what was mounted
 * (names, sizes, modes, versions — never values) and keeps serving until Ctrl-C.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviderClient } from '../adapters/grpc/index.js';
import { createLogger } from '../adapters/logging/logger.js';
import { compileAgentOptions } from '../config/agent-options.js';
import type { LogLevel } from '../config/agent-options.js';
import { startLocalStack } from '../emulators/local-stack.js';
import { Agent } from '../main/agent.js';
import { DEMO, demoSecretProviderClass, seedDemo } from './demo.js';

export interface DevOptions {
  once: boolean;
  logLevel: LogLevel;
  out: (line: string) => void;
}

export async function runDev(options: DevOptions): Promise<{ dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'secretlet-dev-'));
  const stack = await startLocalStack({ dir });
  seedDemo(stack);
  const socket = join(dir, 'aws.sock');
  const agent = Agent.create(
    compileAgentOptions({
      mode: 'provider',
      providerSocket: socket,
      kubeconfig: stack.kubeconfigPath,
      awsEndpoint: stack.aws.url,
      stateDir: join(dir, 'state'),
      metricsAddr: '127.0.0.1:0',
      fleetSize: 1,
      logLevel: options.logLevel,
    }),
    { logger: createLogger({ level: options.logLevel }) },
  );
  const out = options.out;
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await agent.stop();
    await stack.stop();
    // The demo's sockets, kubeconfig, event log and mounted files live only for this run.
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await agent.start();
    out(`local AWS endpoint:      ${stack.aws.url}   (AWS_ENDPOINT_URL=${stack.aws.url})`);
    out(`local Kubernetes API:    ${stack.kube.url}   (KUBECONFIG=${stack.kubeconfigPath})`);
    out(`provider door:           unix://${socket}`);

    const target = join(dir, 'pods', DEMO.podUid, 'volumes', 'kubernetes.io~csi', 'secrets', 'mount');
    await import('node:fs/promises').then((fs) => fs.mkdir(target, { recursive: true }));
    const spc = demoSecretProviderClass() as { spec: { parameters: Record<string, string> } };
    const attributes = {
      ...spc.spec.parameters,
      secretProviderClass: DEMO.spcName,
      'csi.storage.k8s.io/pod.name': DEMO.podName,
      'csi.storage.k8s.io/pod.namespace': DEMO.namespace,
      'csi.storage.k8s.io/pod.uid': DEMO.podUid,
      'csi.storage.k8s.io/serviceAccount.name': DEMO.serviceAccount,
      'csi.storage.k8s.io/ephemeral': 'true',
      'csi.storage.k8s.io/serviceAccount.tokens': stack.kubeletTokens({ namespace: DEMO.namespace, serviceAccount: DEMO.serviceAccount, podName: DEMO.podName, podUid: DEMO.podUid }),
    };
    const client = createProviderClient(socket);
    const res = await client.mount({ attributes: JSON.stringify(attributes), secrets: 'null', targetPath: target, permission: '420', currentObjectVersion: [] });
    client.close();
    out(`mounted SecretProviderClass ${DEMO.namespace}/${DEMO.spcName} into ${target}:`);
    const versions = new Map(res.objectVersion.map((v) => [v.id, v.version]));
    for (const name of (await readdir(target)).filter((n) => !n.startsWith('.')).sort()) {
      const st = await stat(join(target, name));
      out(`  ${name.padEnd(22)} ${String(st.size).padStart(5)} bytes  mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}  version ${versions.get(name) ?? '-'}`);
    }
    out(`AWS calls: ${JSON.stringify(stack.aws.counters.byAction())}`);
    if (options.once) {
      await shutdown();
      return { dir };
    }
    out('serving; press Ctrl-C to stop');
    await new Promise<void>((resolve) => {
      const onSignal = (): void => {
        void shutdown().then(resolve);
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
    return { dir };
  } catch (e) {
    await shutdown();
    throw e;
  }
}
