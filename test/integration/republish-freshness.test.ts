/**
 * Republishes within the rotation interval (kubelet calls NodePublishVolume again about every 75 s;
 * the upstream driver calls Mount again) are answered without reading AWS when the agent verified
 * the mount within the interval and its target directory is as the agent left it — through both
 * doors, against both emulators, with the default rotation interval (2m). Anything that makes the
 * memory untrustworthy (files changed behind the agent's back, a fresh directory at the same path, a
 * changed SecretProviderClass) gets the full mount.
 */
import { mkdir, rm, unlink } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryVolumeMounter } from '../../src/adapters/fs/index.js';
import { createProviderClient } from '../../src/adapters/grpc/index.js';
import type { ProviderClient } from '../../src/adapters/grpc/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { startFakeKubelet } from '../support/kubelet.js';
import type { FakeKubelet, KubeletPod } from '../support/kubelet.js';
import { SHOP_FILES_SPC, SHOP_NAMESPACE, applySpc, awsSpc, putShopVersion, seedShopFleet } from '../support/kubelet-fixtures.js';
import { PARAMETERS, SPC_NAME, driverMountRequest, makeTarget, pod, readTarget, seedShop } from '../support/spc-fixtures.js';

function skipped(h: Harness, door: 'csi' | 'provider'): Promise<number> {
  return h.agent.metrics.republishSkipped.get().then((m) => m.values.find((v) => v.labels['door'] === door)?.value ?? 0);
}

describe('kubelet door: republish within the rotation interval', () => {
  let h: Harness;
  let kubelet: FakeKubelet;
  let shopPod: KubeletPod;

  beforeEach(async () => {
    h = await startHarness({ mounter: new InMemoryVolumeMounter(), agent: { mode: 'kubelet', syncSecrets: false } });
    shopPod = seedShopFleet(h.stack, 1).pods[0]!;
    kubelet = startFakeKubelet({ stack: h.stack, csiEndpoint: h.csiEndpoint, dir: h.dir });
    await kubelet.publish(shopPod);
  });

  afterEach(async () => {
    kubelet?.close();
    await h?.stop();
  });

  it('reads nothing from AWS, writes nothing and leaves the pod status alone', async () => {
    const link = await kubelet.dataLink(shopPod);
    h.stack.aws.counters.reset();
    h.stack.kube.counters.reset();

    await kubelet.publish(shopPod);

    expect(h.stack.aws.counters.total()).toBe(0);
    const kube = h.stack.kube.counters.byVerbResource();
    expect(Object.keys(kube).filter((k) => k.includes('secretproviderclasspodstatuses'))).toEqual([]);
    expect(await kubelet.dataLink(shopPod)).toBe(link);
    expect(await skipped(h, 'csi')).toBe(1);
  });

  it('after a rotation cycle serves what the cycle wrote, still without a read', async () => {
    putShopVersion(h.stack, 2);
    const cycle = await h.agent.rotation!.runCycle();
    expect(cycle.rewritten).toHaveLength(1);
    h.stack.aws.counters.reset();

    await kubelet.publish(shopPod);

    expect(h.stack.aws.counters.total()).toBe(0);
    expect(await kubelet.readFile(shopPod, 'color')).toBe('v2:blue');
  });

  it('reads and restores the files when something changed the target behind the agent', async () => {
    await unlink(`${kubelet.targetPath(shopPod)}/color`);
    h.stack.aws.counters.reset();

    await kubelet.publish(shopPod);

    expect(h.stack.aws.counters.total()).toBeGreaterThan(0);
    expect(await kubelet.readFile(shopPod, 'color')).toBe('v1:blue');
    expect(await skipped(h, 'csi')).toBe(0);
  });

  it('reads when the SecretProviderClass changed, and the new object appears', async () => {
    h.stack.aws.putSecret({ name: 'shop/extra', region: 'us-east-1', string: 'v1:extra' });
    applySpc(h.stack, awsSpc({ name: SHOP_FILES_SPC, namespace: SHOP_NAMESPACE, region: 'us-east-1', objects: '- objectName: /shop/color\n  objectType: ssmparameter\n  objectAlias: color\n- objectName: shop/extra\n  objectType: secretsmanager\n  objectAlias: extra\n' }));
    // The agent's SPC watch cache picks the change up asynchronously: republish until it shows.
    const deadline = Date.now() + 30_000;
    let extra = '';
    while (extra === '' && Date.now() < deadline) {
      await kubelet.publish(shopPod);
      extra = await kubelet.readFile(shopPod, 'extra').catch(() => '');
    }
    expect(extra).toBe('v1:extra');
  });
});

describe('provider door: a repeated Mount within the rotation interval', () => {
  let h: Harness;
  let client: ProviderClient;

  beforeEach(async () => {
    h = await startHarness({ agent: { mode: 'provider' } });
    seedShop(h.stack);
    client = createProviderClient(h.providerSocket);
  });

  afterEach(async () => {
    client?.close();
    await h?.stop();
  });

  it('answers the same versions without a read and leaves the files untouched', async () => {
    const p = pod('web', 1);
    const target = await makeTarget(h.dir, p.podUid);
    const request = driverMountRequest({ stack: h.stack, pod: p, spcName: SPC_NAME, parameters: PARAMETERS, targetPath: target });
    const first = await client.mount(request);
    const before = await readTarget(target);
    h.stack.aws.counters.reset();

    const again = await client.mount(request);

    expect(h.stack.aws.counters.total()).toBe(0);
    expect(again.objectVersion).toEqual(first.objectVersion);
    expect(await readTarget(target)).toEqual(before);
    expect(await skipped(h, 'provider')).toBe(1);
  });

  it('mounts in full into a fresh directory at the same path (the driver mounted a new tmpfs)', async () => {
    const p = pod('web', 2);
    const target = await makeTarget(h.dir, p.podUid);
    const request = driverMountRequest({ stack: h.stack, pod: p, spcName: SPC_NAME, parameters: PARAMETERS, targetPath: target });
    await client.mount(request);
    const files = await readTarget(target);
    await rm(target, { recursive: true });
    await mkdir(target);
    h.stack.aws.counters.reset();

    await client.mount(request);

    expect(h.stack.aws.counters.total()).toBeGreaterThan(0);
    expect([...(await readTarget(target)).keys()]).toEqual([...files.keys()]);
  });
});
