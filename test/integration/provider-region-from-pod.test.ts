/**
 * A provider-mode agent started without --node-name (no NODE_NAME from the downward API), serving a
 * SecretProviderClass that names no region, with no AWS_REGION: it finds the region the way ASCP
 * does (aws-provider.md §9), from the mounted pod's node label, but only once per agent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createProviderClient } from '../../src/adapters/grpc/index.js';
import type { ProviderClient } from '../../src/adapters/grpc/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { applyNode } from '../support/kubelet-fixtures.js';
import { NAMESPACE, OBJECTS, SPC_NAME, driverMountRequest, makeTarget, pod, readTarget, seedShop } from '../support/spc-fixtures.js';
import type { PodRef } from '../support/spc-fixtures.js';

const NODE = 'ip-10-0-1-7.ec2.internal';

let harness: Harness | undefined;
let client: ProviderClient | undefined;

afterEach(async () => {
  client?.close();
  client = undefined;
  await harness?.stop();
  harness = undefined;
});

async function start(): Promise<{ h: Harness; c: ProviderClient }> {
  harness = await startHarness({ agent: { mode: 'provider', nodeName: '' } });
  seedShop(harness.stack);
  client = createProviderClient(harness.providerSocket);
  return { h: harness, c: client };
}

function schedule(h: Harness, p: PodRef, nodeName: string | undefined): void {
  h.stack.kube.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.podName, namespace: p.namespace, uid: p.podUid },
    spec: { serviceAccountName: p.serviceAccount, ...(nodeName === undefined ? {} : { nodeName }), containers: [{ name: 'app', image: 'app' }] },
  });
}

async function mountWithoutRegion(h: Harness, c: ProviderClient, p: PodRef): Promise<string> {
  const target = await makeTarget(h.dir, p.podUid);
  await c.mount(driverMountRequest({ stack: h.stack, pod: p, spcName: SPC_NAME, parameters: { objects: OBJECTS }, targetPath: target }));
  return target;
}

describe('provider door without a node name: region from the pod\'s node', () => {
  it("mounts with the region label of the first pod's node, read once for the agent", async () => {
    const { h, c } = await start();
    applyNode(h.stack, NODE, 'us-east-1');
    const [a, b] = [pod('web', 1), pod('web', 2)];
    schedule(h, a, NODE);
    schedule(h, b, NODE);
    h.stack.kube.counters.reset();

    const targets = [await mountWithoutRegion(h, c, a), await mountWithoutRegion(h, c, b)];

    for (const t of targets) expect((await readTarget(t)).size).toBeGreaterThan(0);
    const kube = h.stack.kube.counters.byVerbResource();
    expect(kube['get pods']).toBe(1);
    expect(kube['get nodes']).toBe(1);
    // The reads went to the node's region.
    expect(h.stack.aws.counters.count({ action: 'BatchGetSecretValue', region: 'us-east-1' })).toBeGreaterThan(0);
  });

  it('names the pod when it cannot be found, and finds the node once it exists', async () => {
    const { h, c } = await start();
    applyNode(h.stack, NODE, 'us-east-1');
    const p = pod('web', 3);

    await expect(mountWithoutRegion(h, c, p)).rejects.toMatchObject({ code: 9, details: `failed to retrieve region from node. error pods "${p.podName}" not found` });

    schedule(h, p, NODE);
    const target = await mountWithoutRegion(h, c, p);
    expect((await readTarget(target)).size).toBeGreaterThan(0);
  });

  it('says the pod has no node when it is not scheduled', async () => {
    const { h, c } = await start();
    const p = pod('web', 4);
    schedule(h, p, undefined);

    await expect(mountWithoutRegion(h, c, p)).rejects.toMatchObject({ code: 9, details: expect.stringContaining(`pod ${NAMESPACE}/${p.podName} has no spec.nodeName`) });
  });
});
