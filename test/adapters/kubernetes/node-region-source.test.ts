import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { DefaultRegionResolver } from '../../../src/adapters/aws/region-resolver.js';
import { NodeLabelRegionSource, REGION_LABEL } from '../../../src/adapters/kubernetes/node-region-source.js';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';

const pod = { namespace: 'default', name: 'web', uid: 'u1', serviceAccount: 'default' };

describe('the node region source against the API server emulator', () => {
  let kube: KubeEmulator | undefined;
  afterEach(async () => {
    await kube?.stop();
    kube = undefined;
  });

  async function resolverFor(node: Record<string, string>): Promise<{ resolver: DefaultRegionResolver; emulator: KubeEmulator }> {
    const emulator = await startKubeEmulator();
    kube = emulator;
    emulator.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: node } });
    const kc = new KubeConfig();
    kc.loadFromString(emulator.kubeconfigYaml());
    return { resolver: new DefaultRegionResolver({ node: new NodeLabelRegionSource(kc, 'n1') }), emulator };
  }

  it('serves the region once the node is labelled after a mount found no label, without a restart', async () => {
    const { resolver, emulator } = await resolverFor({});
    await expect(resolver.primaryRegion(pod)).rejects.toThrow('failed to retrieve region from node. error Region not found');

    emulator.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { [REGION_LABEL]: 'eu-west-1' } } });
    await expect(resolver.primaryRegion(pod)).resolves.toBe('eu-west-1');
  });

  it('reads a found region once, not on every mount', async () => {
    const { resolver, emulator } = await resolverFor({ [REGION_LABEL]: 'eu-west-1' });
    await resolver.primaryRegion(pod);
    await resolver.primaryRegion(pod);
    await resolver.primaryRegion(pod);
    expect(emulator.counters.byVerbResource()['get nodes']).toBe(1);
  });
});
