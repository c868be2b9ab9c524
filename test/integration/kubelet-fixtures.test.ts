/**
 * The shared SecretProviderClass fixtures (test/fixtures/spc, a copy of ../shared/fixtures/spc), as users publish them, mount
 * unchanged through the kubelet door: each applied to the API server in its namespace, what it
 * names created in the AWS endpoint, and a pod published by the fake kubelet sees exactly the files
 * the fixture's header promises. pod-identity.yaml has no spec.provider and must be refused with the
 * upstream message. Each fixture gets its own cluster: two of them are named `default/my-db-secret`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { filesystemAt, startFakeKubelet } from '../support/kubelet.js';
import type { FakeKubelet, KubeletPod } from '../support/kubelet.js';
import {
  FIXTURE_ACCOUNT_ID,
  FIXTURE_SERVICE_ACCOUNT,
  SHARED_FIXTURE_FILES,
  SPC_API_VERSION,
  applyNode,
  applySpc,
  loadSharedSpcFixtures,
  seedSharedFixtures,
} from '../support/kubelet-fixtures.js';
import type { SharedSpcFixture } from '../support/kubelet-fixtures.js';
import { mountCapability } from '../support/privileges.js';

const MOUNT = mountCapability();
const NODE = 'node-1';
const FIXTURES = loadSharedSpcFixtures();

let h: Harness | undefined;
let kubelet: FakeKubelet | undefined;
let pod: KubeletPod | undefined;

afterEach(async () => {
  if (kubelet !== undefined && pod !== undefined) await kubelet.unpublish(pod).catch(() => undefined);
  kubelet?.close();
  await h?.stop();
  h = undefined;
  kubelet = undefined;
  pod = undefined;
});

async function clusterWith(fixture: SharedSpcFixture): Promise<{ h: Harness; kubelet: FakeKubelet; pod: KubeletPod }> {
  h = await startHarness({ stack: { aws: { accountId: FIXTURE_ACCOUNT_ID } } });
  applyNode(h.stack, NODE);
  seedSharedFixtures(h.stack, fixture.namespace);
  applySpc(h.stack, fixture.spc);
  kubelet = startFakeKubelet({ stack: h.stack, csiEndpoint: h.csiEndpoint, dir: h.dir });
  pod = {
    namespace: fixture.namespace,
    name: 'fixture-pod',
    uid: 'f1c7a2e0-0000-4000-8000-000000000001',
    serviceAccount: FIXTURE_SERVICE_ACCOUNT,
    secretProviderClass: fixture.name,
  };
  return { h, kubelet, pod };
}

describe.skipIf(!MOUNT.capable)(`shared SecretProviderClass fixtures through the kubelet door${MOUNT.capable ? '' : ` (skipped: ${MOUNT.reason})`}`, () => {
  it('covers every fixture file', () => {
    expect(FIXTURES.map((f) => f.file).sort()).toEqual([...Object.keys(SHARED_FIXTURE_FILES), 'pod-identity.yaml'].sort());
  });

  const mountable = FIXTURES.filter((f) => f.file !== 'pod-identity.yaml');
  it.each(mountable.map((f) => [f.file, f] as const))('%s mounts the promised files', async (_file, fixture) => {
    const c = await clusterWith(fixture);
    await c.kubelet.publish(c.pod);

    const target = c.kubelet.targetPath(c.pod);
    expect(await filesystemAt(target)).toBe('tmpfs');
    const names = (await readdir(target)).filter((n) => !n.startsWith('..')).sort();
    const seen: Record<string, string> = {};
    for (const name of names) seen[name] = await readFile(join(target, name), 'utf8');
    expect(seen).toEqual(SHARED_FIXTURE_FILES[fixture.file]);

    const spcps = c.h.stack.kube.get(SPC_API_VERSION, 'SecretProviderClassPodStatus', fixture.namespace, `fixture-pod-${fixture.namespace}-${fixture.name}`);
    const objects = (spcps?.['status'] as { objects?: Array<{ id: string }> } | undefined)?.objects ?? [];
    expect(objects.map((o) => o.id)).toEqual(Object.keys(SHARED_FIXTURE_FILES[fixture.file]!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));

    await c.kubelet.unpublish(c.pod);
    expect(await filesystemAt(target)).toBeUndefined();
  });

  it('pod-identity.yaml (no spec.provider) is refused with the upstream message and mounts nothing', async () => {
    const fixture = FIXTURES.find((f) => f.file === 'pod-identity.yaml')!;
    const c = await clusterWith(fixture);
    await expect(c.kubelet.publish(c.pod)).rejects.toMatchObject({
      code: status.UNKNOWN,
      details: 'provider not set in default/example-pod-identity-spc',
    });
    expect(await filesystemAt(c.kubelet.targetPath(c.pod))).toBeUndefined();
    await expect(readdir(c.kubelet.targetPath(c.pod))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
