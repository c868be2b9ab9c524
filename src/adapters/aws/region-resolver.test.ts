import { describe, expect, it } from 'vitest';
import { StaticNodeRegionSource } from './in-memory-directories.js';
import { DefaultRegionResolver } from './region-resolver.js';

const pod = { namespace: 'ns', name: 'p', uid: 'u', serviceAccount: 'sa' };

describe('DefaultRegionResolver', () => {
  it('prefers the configured default region without asking the node', async () => {
    const node = new StaticNodeRegionSource('eu-west-1');
    await expect(new DefaultRegionResolver({ defaultRegion: 'us-east-2', node }).primaryRegion(pod)).resolves.toBe('us-east-2');
    expect(node.lookups).toBe(0);
  });

  it("looks the node's region up once", async () => {
    const node = new StaticNodeRegionSource('eu-west-1');
    const resolver = new DefaultRegionResolver({ node });
    await Promise.all([resolver.primaryRegion(pod), resolver.primaryRegion(pod)]);
    await expect(resolver.primaryRegion(pod)).resolves.toBe('eu-west-1');
    expect(node.lookups).toBe(1);
  });

  it('asks the node source with the pod being mounted (an agent without a node name finds its node through it)', async () => {
    const node = new StaticNodeRegionSource('eu-west-1');
    await new DefaultRegionResolver({ node }).primaryRegion(pod);
    expect(node.askedFor).toEqual([{ namespace: 'ns', name: 'p' }]);
  });

  it('fails with "Region not found" and asks again next time', async () => {
    const node = new StaticNodeRegionSource(undefined);
    const resolver = new DefaultRegionResolver({ node });
    await expect(resolver.primaryRegion(pod)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'RegionNotFound', message: 'Region not found' });
    node.region = 'ap-south-1';
    await expect(resolver.primaryRegion(pod)).resolves.toBe('ap-south-1');
  });

  it('wraps a failing lookup', async () => {
    const resolver = new DefaultRegionResolver({ node: { regionOfThisNode: () => Promise.reject(new Error('nodes "n1" not found')) } });
    await expect(resolver.primaryRegion(pod)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringContaining('nodes "n1" not found') });
  });
});
