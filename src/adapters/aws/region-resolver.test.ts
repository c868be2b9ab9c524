import { describe, expect, it } from 'vitest';
import { SecretletError } from '../../core/errors.js';
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

  it('fails as ASCP does when the node has no region label, and asks again next time', async () => {
    const node = new StaticNodeRegionSource(undefined);
    const resolver = new DefaultRegionResolver({ node });
    await expect(resolver.primaryRegion(pod)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'RegionNotFound', message: 'failed to retrieve region from node. error Region not found' });
    node.region = 'ap-south-1';
    await expect(resolver.primaryRegion(pod)).resolves.toBe('ap-south-1');
  });

  it("wraps a failing lookup once, in ASCP's words; an unreachable API server stays UNAVAILABLE", async () => {
    const notFound = new SecretletError({ code: 'NOT_FOUND', reason: 'KubernetesHttp404', message: 'nodes "n1" not found' });
    const resolver = new DefaultRegionResolver({ node: { regionOfThisNode: () => Promise.reject(notFound) } });
    await expect(resolver.primaryRegion(pod)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: 'failed to retrieve region from node. error nodes "n1" not found' });
    const down = new SecretletError({ code: 'UNAVAILABLE', reason: 'KubernetesUnavailable', message: 'connect ECONNREFUSED 127.0.0.1:6443' });
    const unreachable = new DefaultRegionResolver({ node: { regionOfThisNode: () => Promise.reject(down) } });
    await expect(unreachable.primaryRegion(pod)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'failed to retrieve region from node. error connect ECONNREFUSED 127.0.0.1:6443' });
  });
});
