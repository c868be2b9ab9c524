/**
 * The benchmark's "cloud": the local AWS endpoint (with an injected round-trip latency) and the local
 * Kubernetes API server, in their own process so their CPU and memory are not the agent's. Seeds the
 * world of world.ts and answers the driver over IPC: counters, counter reset, kubelet tokens, rotation.
 * Usage: tsx bench/density/stack-process.ts '{"pods":110,"podsPerIdentity":10,"rttMs":20}'
 */
import { startLocalStack } from '../../src/emulators/local-stack.js';
import { serveParent } from './ipc.js';
import {
  NAMESPACE,
  REGION,
  SM_PER_IDENTITY,
  SSM_PER_IDENTITY,
  allObjects,
  objectsYaml,
  parameterName,
  pods as podsOf,
  roleArn,
  secretName,
  secretValue,
  serviceAccountCount,
  serviceAccountName,
  spcName,
  warmupPod,
} from './world.js';

const { pods, podsPerIdentity, rttMs } = JSON.parse(process.argv[2] ?? '{}') as { pods: number; podsPerIdentity: number; rttMs: number };
const size = { pods, podsPerIdentity };

const stack = await startLocalStack({ aws: { latencyMs: rttMs } });
// One identity more than the pods use: the warm-up pod's (world.ts warmupPod).
for (let s = 0; s <= serviceAccountCount(size); s++) {
  stack.addServiceAccount({
    namespace: NAMESPACE,
    name: serviceAccountName(s),
    roleArn: roleArn(s),
    allow: { secrets: [`bench/${serviceAccountName(s)}/*`], parameters: [`/bench/${serviceAccountName(s)}/*`], batchGetSecretValue: true },
  });
  for (let k = 0; k < SM_PER_IDENTITY; k++) stack.aws.putSecret({ name: secretName(s, k), region: REGION, string: secretValue(s, k, 0) });
  for (let k = 0; k < SSM_PER_IDENTITY; k++) stack.aws.putParameter({ name: parameterName(s, k), region: REGION, value: `value-${s}-${k}-g0` });
  stack.kube.apply({
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name: spcName(s), namespace: NAMESPACE },
    spec: { provider: 'aws', parameters: { region: REGION, objects: objectsYaml(s) } },
  } as never);
}
let generation = 0;

serveParent(
  async (cmd, args) => {
    switch (cmd) {
      case 'counters':
        return { aws: stack.aws.counters.byAction(), awsTotal: stack.aws.counters.total(), kube: stack.kube.counters.byVerbResource(), kubeTotal: stack.kube.counters.total(), kubeConnections: stack.kube.counters.connections() };
      case 'reset':
        stack.aws.counters.reset();
        stack.kube.counters.reset();
        return null;
      case 'tokens':
        // What kubelet hands the driver for each pod (projected tokens for both audiences).
        return [...podsOf(size), warmupPod(size)].map((p) => stack.kubeletTokens({ namespace: NAMESPACE, serviceAccount: p.serviceAccount, podName: p.name, podUid: p.uid }));
      case 'rotate': {
        const fraction = (args as { fraction: number }).fraction;
        const every = Math.max(1, Math.round(1 / fraction));
        generation++;
        let changed = 0;
        allObjects(size).forEach((o, i) => {
          if (i % every !== 0) return;
          changed++;
          if (o.type === 'sm') stack.aws.putSecret({ name: secretName(o.s, o.k), region: REGION, string: secretValue(o.s, o.k, generation) });
          else stack.aws.putParameter({ name: parameterName(o.s, o.k), region: REGION, value: `value-${o.s}-${o.k}-g${generation}` });
        });
        return { changed };
      }
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  },
  () => stack.stop(),
);

process.send?.({ type: 'ready', awsUrl: stack.aws.url, podIdentityUrl: stack.aws.podIdentityUrl, kubeconfigPath: stack.kubeconfigPath, dir: stack.dir });
