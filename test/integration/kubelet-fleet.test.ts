/**
 * Issue 3 end to end through the kubelet door: a fake kubelet publishes 20 pods (4 service
 * accounts, 2 SecretProviderClasses, IRSA and Pod Identity) over the agent's real CSI socket
 * against both local emulators, while readers loop over every file of every volume; secrets change
 * and kubelet republishes; then every volume is unpublished. What a user would notice is asserted:
 * file contents, tmpfs mounts, the SecretProviderClassPodStatus objects, and that no reader ever saw
 * a missing, empty or mixed-version file.
 */
import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/emulators/kube/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { startConsistencyReader } from '../support/consistency-reader.js';
import type { ConsistencyReader } from '../support/consistency-reader.js';
import { filesystemAt, startFakeKubelet } from '../support/kubelet.js';
import type { FakeKubelet, KubeletPod } from '../support/kubelet.js';
import {
  SHOP_FILES_SPC,
  SPC_API_VERSION,
  applyNode,
  putShopVersion,
  seedShopFleet,
  shopVersionOf,
} from '../support/kubelet-fixtures.js';
import type { ShopFleet, ShopVersions } from '../support/kubelet-fixtures.js';
import { mountCapability } from '../support/privileges.js';

const MOUNT = mountCapability();
const NODE = 'node-1';

function podStatusOf(h: Harness, pod: KubeletPod): KubeObject | undefined {
  const name = `${pod.name}-${pod.namespace}-${pod.secretProviderClass}`;
  return h.stack.kube.get(SPC_API_VERSION, 'SecretProviderClassPodStatus', pod.namespace, name);
}

/** What each pod's files must hold at version `n`. */
function expectedFiles(pod: KubeletPod, n: number): Record<string, string> {
  if (pod.secretProviderClass === SHOP_FILES_SPC) {
    return {
      shop_db: JSON.stringify({ username: `v${n}:user`, password: `v${n}:pass` }),
      'db-user': `v${n}:user`,
      'db-pass': `v${n}:pass`,
      color: `v${n}:blue`,
    };
  }
  return { 'api-key': `v${n}:key-${'k'.repeat(64 * n)}`, token: `v${n}:token` };
}

function expectedObjects(pod: KubeletPod, versions: ShopVersions): Array<{ id: string; version: string }> {
  if (pod.secretProviderClass !== SHOP_FILES_SPC) return ['api-key', 'token'].map((id) => ({ id, version: versions[id]! }));
  // Each JMESPath alias is listed with the version of the secret it came from (as ASCP does).
  const db = versions['shop_db']!;
  return [
    { id: 'color', version: versions['color']! },
    { id: 'db-pass', version: db },
    { id: 'db-user', version: db },
    { id: 'shop_db', version: db },
  ];
}

describe.skipIf(!MOUNT.capable)(`kubelet door: 20 pods end to end${MOUNT.capable ? '' : ` (skipped: ${MOUNT.reason})`}`, () => {
  let h: Harness;
  let kubelet: FakeKubelet;
  let fleet: ShopFleet;
  const readers: ConsistencyReader[] = [];

  beforeAll(async () => {
    // Rotation off: every republish reads AWS, the path these tests exercise (republish-freshness.test.ts
    // covers how republishes within the rotation interval are answered without a read).
    h = await startHarness({ agent: { rotationInterval: '0' } });
    applyNode(h.stack, NODE);
    fleet = seedShopFleet(h.stack, 20);
    kubelet = startFakeKubelet({ stack: h.stack, csiEndpoint: h.csiEndpoint, dir: h.dir });
  });

  afterAll(async () => {
    await Promise.allSettled(readers.splice(0).map((r) => r.stop()));
    // Unmount whatever a failed test left mounted before the harness removes the temp dir.
    if (kubelet !== undefined) await Promise.allSettled(fleet.pods.map((p) => kubelet.unpublish(p)));
    kubelet?.close();
    await h?.stop();
  });

  async function expectContents(n: number): Promise<void> {
    for (const pod of fleet.pods) {
      const seen: Record<string, string> = {};
      for (const file of fleet.filesOf(pod)) seen[file] = await kubelet.readFile(pod, file);
      expect(seen, pod.name).toEqual(expectedFiles(pod, n));
    }
  }

  async function expectPodStatuses(versions: ShopVersions): Promise<void> {
    for (const pod of fleet.pods) {
      const spcps = podStatusOf(h, pod);
      expect(spcps, pod.name).toBeDefined();
      expect(spcps!.metadata.labels).toEqual({ 'internal.secrets-store.csi.k8s.io/node-name': NODE });
      expect(spcps!.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid }]);
      expect(spcps!['status']).toEqual({
        podName: pod.name,
        secretProviderClassName: pod.secretProviderClass,
        mounted: true,
        targetPath: kubelet.targetPath(pod),
        objects: expectedObjects(pod, versions),
      });
    }
  }

  it('publishes every pod onto its own 0755 tmpfs with the SPC files and a pod status', async () => {
    await Promise.all(fleet.pods.map((pod) => kubelet.publish(pod)));

    for (const pod of fleet.pods) {
      const target = kubelet.targetPath(pod);
      expect(await filesystemAt(target), pod.name).toBe('tmpfs');
      expect((await stat(target)).mode & 0o7777).toBe(0o755);
      if (pod.secretProviderClass === SHOP_FILES_SPC) expect((await stat(`${target}/db-pass`)).mode & 0o777).toBe(0o600);
    }
    await expectContents(1);
    await expectPodStatuses(fleet.versions);
  });

  it('republishes new versions while readers loop, and no reader sees a torn payload', async () => {
    for (const pod of fleet.pods) {
      readers.push(startConsistencyReader({ dir: kubelet.targetPath(pod), files: fleet.filesOf(pod), versionOf: shopVersionOf }));
    }
    await Promise.all(readers.map((r) => r.waitForPasses(1)));

    try {
      for (const n of [2, 3]) {
        const links = await Promise.all(fleet.pods.map((p) => kubelet.dataLink(p)));
        const versions = putShopVersion(h.stack, n);
        const passes = readers.map((r) => r.passes());
        await Promise.all(fleet.pods.map((pod) => kubelet.publish(pod)));
        // Every reader completes a pass over the new payload before the next change.
        await Promise.all(readers.map((r, i) => r.waitForPasses(passes[i]! + 1)));
        const after = await Promise.all(fleet.pods.map((p) => kubelet.dataLink(p)));
        after.forEach((link, i) => expect(link, fleet.pods[i]!.name).not.toBe(links[i]));
        await expectContents(n);
        await expectPodStatuses(versions);
      }
    } finally {
      // Readers hold files open: stop them before anything unmounts (umount would say "busy").
      const reports = await Promise.all(readers.splice(0).map((r) => r.stop()));
      for (const [i, report] of reports.entries()) {
        expect(report.violations, fleet.pods[i]!.name).toEqual([]);
        expect(report.violationCount).toBe(0);
        expect(report.reads, fleet.pods[i]!.name).toBeGreaterThan(0);
      }
    }
    // 20 reader threads spin on 2 shared cores: allow for a slow, busy machine.
  }, 240_000);

  it('unpublishes every pod: unmounted, target removed, safe to repeat', async () => {
    await Promise.all(fleet.pods.map((pod) => kubelet.unpublish(pod)));
    for (const pod of fleet.pods) {
      const target = kubelet.targetPath(pod);
      expect(await filesystemAt(target)).toBeUndefined();
      await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    // kubelet retries unpublish after a timeout it could not see the answer of.
    await Promise.all(fleet.pods.map((pod) => kubelet.unpublish(pod)));
    // The pod statuses stay: Kubernetes garbage-collects them with their pods, as upstream.
    expect(podStatusOf(h, fleet.pods[0]!)).toBeDefined();
  });
});
