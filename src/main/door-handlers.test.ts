import { describe, expect, it } from 'vitest';
import { createLogger } from '../adapters/logging/logger.js';
import { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import type { NodeVolumeService } from '../core/usecases/node-volume.js';
import type { ProviderMountService } from '../core/usecases/provider-mount.js';
import { CsiDoorHandler, ProviderDoorHandler } from './door-handlers.js';
import { InFlight } from './in-flight.js';
import { PublishingTargets } from './publishing-targets.js';

const logger = createLogger({ level: 'silent' });

describe('door handlers mark the target they publish for rotation', () => {
  it('a kubelet publish and a driver Mount hold their target marked until they answer, and a failure unmarks it', async () => {
    const publishing = new PublishingTargets();
    const seen: boolean[] = [];
    const nodeService = { publish: (req: { targetPath: string }) => (seen.push(publishing.has(req.targetPath)), Promise.resolve()) } as unknown as NodeVolumeService;
    const csi = new CsiDoorHandler({ service: nodeService, inFlight: new InFlight(), metrics: new AgentMetrics({ defaultMetrics: false }), logger, publishing });
    await csi.publish({ volumeId: 'v', targetPath: '/t/csi', volumeContext: {}, secrets: {}, readonly: true, mountFlags: [] }, new AbortController().signal);

    const providerService = {
      mount: (req: { targetPath: string }) => {
        seen.push(publishing.has(req.targetPath));
        return Promise.reject(new Error('boom'));
      },
    } as unknown as ProviderMountService;
    const provider = new ProviderDoorHandler({ service: providerService, inFlight: new InFlight(), metrics: new AgentMetrics({ defaultMetrics: false }), logger, publishing });
    await expect(provider.mount({ attributes: '{}', secrets: '{}', targetPath: '/t/provider', permission: '420', currentObjectVersion: [] }, new AbortController().signal)).rejects.toThrow('boom');

    expect(seen).toEqual([true, true]);
    expect([publishing.has('/t/csi'), publishing.has('/t/provider')]).toEqual([false, false]);
  });
});

describe('a kubelet unpublish after a publish of the same target that is still running', () => {
  const request = (targetPath: string) => ({ volumeId: 'v', targetPath, volumeContext: {}, secrets: {}, readonly: true, mountFlags: [] });

  it('waits for that publish to finish, so what it records is undone; other targets do not wait', async () => {
    const publishing = new PublishingTargets();
    const order: string[] = [];
    let finishPublish = (): void => undefined;
    const publishGate = new Promise<void>((resolve) => {
      finishPublish = resolve;
    });
    const service = {
      // A publish kubelet gave up on: it still writes the pod status, then records the mount.
      publish: async () => {
        await publishGate;
        order.push('publish recorded /t/a');
      },
      unpublish: (req: { targetPath: string }) => {
        order.push(`unpublish ${req.targetPath}`);
        return Promise.resolve();
      },
    } as unknown as NodeVolumeService;
    const csi = new CsiDoorHandler({ service, inFlight: new InFlight(), metrics: new AgentMetrics({ defaultMetrics: false }), logger, publishing });

    const kubelet = new AbortController();
    const publish = csi.publish(request('/t/a'), kubelet.signal);
    kubelet.abort();
    const unpublish = csi.unpublish({ volumeId: 'v', targetPath: '/t/a' }, new AbortController().signal);
    await csi.unpublish({ volumeId: 'w', targetPath: '/t/b' }, new AbortController().signal);
    expect(order).toEqual(['unpublish /t/b']);

    finishPublish();
    await Promise.all([publish, unpublish]);
    expect(order).toEqual(['unpublish /t/b', 'publish recorded /t/a', 'unpublish /t/a']);
    expect(publishing.has('/t/a')).toBe(false);
    await expect(publishing.settled('/t/a')).resolves.toBeUndefined();
  });
});
