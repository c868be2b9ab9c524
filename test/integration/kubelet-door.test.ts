/**
 * The kubelet door's promises one pod at a time, through the real CSI socket against both local
 * emulators: a republish with nothing changed touches nothing; a failed first mount leaves no tmpfs
 * and no directory; a failed republish keeps the old files and answers success; malformed requests
 * get the upstream code and a message naming the field, with nothing mounted; a target path that is
 * relative or not normalized is refused before anything touches it; unpublish is safe to repeat and
 * accepts targets that were never mounted.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { status } from '@grpc/grpc-js';
import { DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsiClient } from '../../src/adapters/grpc/clients/csi-client.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { mountedFilesystems, startFakeKubelet } from '../support/kubelet.js';
import type { FakeKubelet, KubeletPod } from '../support/kubelet.js';
import {
  SHOP_FILES_SPC,
  SHOP_NAMESPACE,
  SHOP_SYNC_SPC,
  SPC_API_VERSION,
  applyNode,
  applySpc,
  awsSpc,
  putShopVersion,
  seedShopFleet,
} from '../support/kubelet-fixtures.js';
import { mountCapability } from '../support/privileges.js';

const MOUNT = mountCapability();
const NODE = 'node-1';

let h: Harness;
let kubelet: FakeKubelet;
let nextPod = 0;
const published: KubeletPod[] = [];

/** A fresh pod (new uid, new target) of the shop fleet's accounts. */
function newPod(o: Partial<KubeletPod> = {}): KubeletPod {
  const i = nextPod++;
  const pod: KubeletPod = {
    namespace: SHOP_NAMESPACE,
    name: `door-${i}`,
    uid: `d00r0000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    serviceAccount: 'web',
    secretProviderClass: SHOP_FILES_SPC,
    ...o,
  };
  published.push(pod);
  return pod;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Mount points under the harness dir: what a test left mounted. */
async function mountsUnderHarness(): Promise<string[]> {
  return [...(await mountedFilesystems()).keys()].filter((p) => p.startsWith(`${h.dir}/`));
}

function podStatusName(pod: KubeletPod): string {
  return `${pod.name}-${pod.namespace}-${pod.secretProviderClass}`;
}

/** Polls until `check` holds, for state the agent reaches asynchronously (its informer cache). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe.skipIf(!MOUNT.capable)(`kubelet door, one pod at a time${MOUNT.capable ? '' : ` (skipped: ${MOUNT.reason})`}`, () => {
  beforeAll(async () => {
    // Rotation off: every republish reads AWS, the path these tests exercise (republish-freshness.test.ts
    // covers how republishes within the rotation interval are answered without a read).
    h = await startHarness({ agent: { rotationInterval: '0' } });
    applyNode(h.stack, NODE);
    seedShopFleet(h.stack, 0);
    kubelet = startFakeKubelet({ stack: h.stack, csiEndpoint: h.csiEndpoint, dir: h.dir });
  });

  afterAll(async () => {
    if (kubelet !== undefined) await Promise.allSettled(published.map((p) => kubelet.unpublish(p)));
    kubelet?.close();
    await h?.stop();
  });

  describe('republish', () => {
    it('with nothing changed touches neither the files nor the API server', async () => {
      const pod = newPod();
      await kubelet.publish(pod);
      const link = await kubelet.dataLink(pod);
      const before = (await stat(join(kubelet.targetPath(pod), link!))).mtimeMs;
      h.stack.kube.counters.reset();

      await kubelet.publish(pod);

      expect(await kubelet.dataLink(pod)).toBe(link);
      expect((await stat(join(kubelet.targetPath(pod), link!))).mtimeMs).toBe(before);
      const calls = h.stack.kube.counters.byVerbResource();
      expect(calls['update secretproviderclasspodstatuses'] ?? 0).toBe(0);
      expect(calls['create secretproviderclasspodstatuses'] ?? 0).toBe(0);
      expect(calls['patch secretproviderclasspodstatuses'] ?? 0).toBe(0);
    });

    it('that fails at AWS keeps the old files and answers success', async () => {
      const pod = newPod();
      await kubelet.publish(pod);
      const link = await kubelet.dataLink(pod);
      const spcps = h.stack.kube.get(SPC_API_VERSION, 'SecretProviderClassPodStatus', pod.namespace, podStatusName(pod));
      putShopVersion(h.stack, 7);
      h.stack.aws.faults.inject({ kind: 'unavailable' });
      try {
        await kubelet.publish(pod);
      } finally {
        h.stack.aws.faults.clear();
      }
      expect(await kubelet.dataLink(pod)).toBe(link);
      expect(await kubelet.readFile(pod, 'color')).toBe(`v1:blue`);
      expect(h.stack.kube.get(SPC_API_VERSION, 'SecretProviderClassPodStatus', pod.namespace, podStatusName(pod))).toEqual(spcps);
      // The next republish that succeeds delivers the new version.
      await kubelet.publish(pod);
      expect(await kubelet.readFile(pod, 'color')).toBe(`v7:blue`);
      putShopVersion(h.stack, 1);
    });

    it('after the secret was deleted keeps the old files and answers success', async () => {
      const region = 'us-east-1';
      h.stack.aws.putSecret({ name: 'doomed/key', region, string: 'v1:doomed' });
      applySpc(h.stack, awsSpc({ name: 'doomed', namespace: SHOP_NAMESPACE, region, objects: '- objectName: doomed/key\n  objectType: secretsmanager\n  objectAlias: key' }));
      h.stack.addServiceAccount({
        namespace: SHOP_NAMESPACE,
        name: 'doomed-reader',
        roleArn: `arn:aws:iam::${h.stack.aws.accountId}:role/doomed`,
        allow: { secrets: ['doomed/*'], batchGetSecretValue: true },
      });
      const pod = newPod({ secretProviderClass: 'doomed', serviceAccount: 'doomed-reader' });
      await kubelet.publish(pod);
      const link = await kubelet.dataLink(pod);
      const sm = new SecretsManagerClient({ endpoint: h.stack.aws.url, region, credentials: h.stack.aws.adminCredentials });
      try {
        await sm.send(new DeleteSecretCommand({ SecretId: 'doomed/key', ForceDeleteWithoutRecovery: true }));
      } finally {
        sm.destroy();
      }

      await kubelet.publish(pod);

      expect(await kubelet.dataLink(pod)).toBe(link);
      expect(await kubelet.readFile(pod, 'key')).toBe('v1:doomed');
      // A new pod cannot mount it: the failure is real, only the republish masks it.
      const fresh = newPod({ secretProviderClass: 'doomed', serviceAccount: 'doomed-reader' });
      await expect(kubelet.publish(fresh)).rejects.toMatchObject({ details: expect.stringContaining('doomed/key') });
      expect(await exists(kubelet.targetPath(fresh))).toBe(false);
    });
  });

  describe('a failed first mount', () => {
    it('of a secret that does not exist leaves no tmpfs and no directory', async () => {
      applySpc(h.stack, awsSpc({ name: 'missing-secret', namespace: SHOP_NAMESPACE, region: 'us-east-1', objects: '- objectName: shop/not-there\n  objectType: secretsmanager' }));
      const pod = newPod({ secretProviderClass: 'missing-secret' });
      // The driver's wrapper first, as kubelet shows it in the pod's FailedMount event; the cause names the object.
      await expect(kubelet.publish(pod)).rejects.toMatchObject({
        details: expect.stringMatching(new RegExp(`^failed to mount secrets store objects for pod ${pod.namespace}/${pod.name}, err: .*shop/not-there`)),
      });
      expect(await exists(kubelet.targetPath(pod))).toBe(false);
      expect(await mountsUnderHarness()).not.toContain(kubelet.targetPath(pod));
    });

    it('of a class with no objects is refused as the driver refuses it, before anything is mounted', async () => {
      for (const [name, objects] of [['no-objects', ''], ['empty-objects', '[]']] as const) {
        applySpc(h.stack, awsSpc({ name, namespace: SHOP_NAMESPACE, region: 'us-east-1', objects }));
        const pod = newPod({ secretProviderClass: name });
        await expect(kubelet.publish(pod)).rejects.toMatchObject({
          code: status.INVALID_ARGUMENT,
          details: `failed to mount secrets store objects for pod ${pod.namespace}/${pod.name}, err: missing object versions`,
        });
        expect(await exists(kubelet.targetPath(pod))).toBe(false);
      }
    });

    it('that fails after the tmpfs was mounted (API server down for the pod status) unmounts and removes it', async () => {
      const warm = newPod({ secretProviderClass: SHOP_SYNC_SPC, serviceAccount: 'cron' });
      await kubelet.publish(warm);
      // The SPC must come from the agent's watch cache, not a GET the outage would fail: wait
      // until a republish reads no SPC from the API server.
      await eventually(async () => {
        h.stack.kube.counters.reset();
        await kubelet.publish(warm);
        return (h.stack.kube.counters.byVerbResource()['get secretproviderclasses'] ?? 0) === 0;
      }, 'the SPC watch cache');

      const pod = newPod({ secretProviderClass: SHOP_SYNC_SPC, serviceAccount: 'cron' });
      h.stack.kube.pause();
      try {
        await expect(kubelet.publish(pod)).rejects.toMatchObject({
          code: status.UNAVAILABLE,
          details: expect.stringMatching(
            new RegExp(`^failed to create secret provider class pod status for pod ${pod.namespace}/${pod.name}, err: create SecretProviderClassPodStatus ${pod.namespace}/${podStatusName(pod)}: `),
          ),
        });
      } finally {
        h.stack.kube.resume();
      }
      expect(await exists(kubelet.targetPath(pod))).toBe(false);
      expect(await mountsUnderHarness()).not.toContain(kubelet.targetPath(pod));

      // kubelet's retry starts from scratch and succeeds.
      await kubelet.publish(pod);
      expect(await kubelet.readFile(pod, 'token')).toMatch(/^v\d+:token$/);
    });
  });

  describe('a failed first mount into a target that already holds files', () => {
    it('leaves them, and the directory, in place: it undoes only what it did', async () => {
      const pod = newPod();
      const target = kubelet.targetPath(pod);
      await mkdir(target, { recursive: true });
      await writeFile(`${target}/precious`, 'kept');
      // Refused before anything is touched.
      await expect(kubelet.publish(pod, { readonly: false })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
      // Failed reading AWS, before its tmpfs.
      h.stack.aws.faults.inject({ kind: 'unavailable' });
      try {
        await expect(kubelet.publish(pod)).rejects.toMatchObject({ code: status.UNAVAILABLE });
      } finally {
        h.stack.aws.faults.clear();
      }
      // Failed after its tmpfs was mounted over the directory and written: the status create is
      // refused past the client's ten Retry-After retries.
      h.stack.kube.throttle({ verb: 'create', resource: 'secretproviderclasspodstatuses', times: 11, retryAfterSeconds: 0 });
      await expect(kubelet.publish(pod)).rejects.toMatchObject({ details: expect.stringMatching(/^failed to create secret provider class pod status/) });
      expect(await readdir(target)).toEqual(['precious']);
      expect(await mountsUnderHarness()).not.toContain(target);
    });
  });

  describe('a target path that is a symlink', () => {
    it('is refused with INVALID_ARGUMENT naming target_path: nothing is mounted where it points', async () => {
      const pod = newPod();
      const target = kubelet.targetPath(pod);
      const elsewhere = `${target}-elsewhere`;
      await mkdir(elsewhere, { recursive: true });
      await symlink(elsewhere, target);
      await expect(kubelet.publish(pod)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('is a symbolic link') });
      expect(await mountsUnderHarness()).not.toContain(elsewhere);
      expect(await readdir(elsewhere)).toEqual([]);
    });
  });

  describe('a tmpfs left without files by an agent killed mid-mount', () => {
    it('is not a republish to mask: a failing retry is refused and rolled back, and the next one mounts', async () => {
      const pod = newPod();
      const target = kubelet.targetPath(pod);
      // What a SIGKILL between the agent's mount(2) and its first write leaves: a mount point, no `..data`.
      await mkdir(target, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', target]);
      expect(await mountsUnderHarness()).toContain(target);

      h.stack.aws.faults.inject({ kind: 'unavailable' });
      try {
        await expect(kubelet.publish(pod)).rejects.toMatchObject({
          details: expect.stringMatching(new RegExp(`^failed to mount secrets store objects for pod ${pod.namespace}/${pod.name}, err: `)),
        });
      } finally {
        h.stack.aws.faults.clear();
      }
      // The empty tmpfs is gone; the directory, which this call did not create, stays (as upstream leaves it).
      expect(await mountsUnderHarness()).not.toContain(target);
      expect(await readdir(target)).toEqual([]);

      await kubelet.publish(pod);
      expect(await kubelet.readFile(pod, 'color')).toMatch(/^v\d+:blue$/);
    });
  });

  describe('target paths that are relative or not normalized are refused before anything touches them', () => {
    it('publish with a relative path answers INVALID_ARGUMENT naming target_path, and creates nothing', async () => {
      const pod = newPod();
      // Relative to the agent's working directory (the test's), yet naming the harness target, so
      // even a regression mounts nowhere but where afterAll unpublishes.
      const relativeTarget = relative(process.cwd(), kubelet.targetPath(pod));
      expect(relativeTarget.startsWith('/')).toBe(false);
      const error = await kubelet.publish(pod, { targetPath: relativeTarget }).then(
        () => undefined,
        (e: unknown) => e as { code: number; details: string },
      );
      expect(error, 'publish must fail').toBeDefined();
      expect(status[error!.code]).toBe('INVALID_ARGUMENT');
      expect(error!.details).toContain('target_path');
      expect(await exists(kubelet.targetPath(pod))).toBe(false);
      expect(await mountsUnderHarness()).not.toContain(kubelet.targetPath(pod));
    });

    it('unpublish of `<dir>/x/../victim` answers INVALID_ARGUMENT naming target_path, and removes nothing', async () => {
      const victim = join(h.dir, 'victim');
      await mkdir(join(h.dir, 'x'), { recursive: true });
      await mkdir(victim, { recursive: true });
      await writeFile(join(victim, 'keep'), 'host data');
      const client = createCsiClient(h.csiEndpoint);
      try {
        const error = await client.nodeUnpublish({ volumeId: 'csi-0', targetPath: `${h.dir}/x/../victim` }).then(
          () => undefined,
          (e: unknown) => e as { code: number; details: string },
        );
        expect(error, 'unpublish must fail').toBeDefined();
        expect(status[error!.code]).toBe('INVALID_ARGUMENT');
        expect(error!.details).toContain('target_path');
      } finally {
        client.close();
      }
      expect(await readdir(victim)).toEqual(['keep']);
    });
  });

  describe('bad requests answer the upstream code, name the field, and mount nothing', () => {
    beforeAll(() => {
      applySpc(h.stack, awsSpc({ name: 'elsewhere', namespace: 'other', objects: '- objectName: shop/db\n  objectType: secretsmanager' }));
      applySpc(h.stack, {
        apiVersion: SPC_API_VERSION,
        kind: 'SecretProviderClass',
        metadata: { name: 'no-provider', namespace: SHOP_NAMESPACE },
        spec: { parameters: { objects: '- objectName: shop/db\n  objectType: secretsmanager' } },
      });
      applySpc(h.stack, {
        apiVersion: SPC_API_VERSION,
        kind: 'SecretProviderClass',
        metadata: { name: 'vault-class', namespace: SHOP_NAMESPACE },
        spec: { provider: 'vault', parameters: { objects: '- objectName: shop/db\n  objectType: secretsmanager' } },
      });
      // `../x` through both aliases, with the default path translation (`/` → `_`, so the name
      // becomes `.._x`, which would shadow the atomic writer's `..` entries) and without it.
      const escapes = {
        'alias-escape': '- objectName: shop/db\n  objectType: secretsmanager\n  objectAlias: ../x',
        'jmes-escape': '- objectName: shop/db\n  objectType: secretsmanager\n  jmesPath:\n    - { path: username, objectAlias: ../x }',
      };
      for (const [name, objects] of Object.entries(escapes)) {
        for (const pathTranslation of ['_', 'False']) {
          applySpc(h.stack, awsSpc({ name: `${name}-${pathTranslation === '_' ? 'translated' : 'raw'}`, namespace: SHOP_NAMESPACE, region: 'us-east-1', objects, parameters: { pathTranslation } }));
        }
      }
    });

    const cases: Array<{
      name: string;
      pod?: Partial<KubeletPod>;
      request?: (pod: KubeletPod) => Parameters<FakeKubelet['publish']>[1];
      code: status;
      details: (pod: KubeletPod) => string | RegExp;
    }> = [
      { name: 'missing volume id', request: () => ({ volumeId: '' }), code: status.INVALID_ARGUMENT, details: () => 'Volume ID missing in request' },
      { name: 'missing target path', request: () => ({ targetPath: '' }), code: status.INVALID_ARGUMENT, details: () => 'Target path missing in request' },
      { name: 'missing capability', request: () => ({ volumeCapability: null }), code: status.INVALID_ARGUMENT, details: () => 'Volume capability missing in request' },
      {
        name: 'missing secretProviderClass',
        request: (pod) => ({ volumeContext: { ...kubelet.publishRequest(pod).volumeContext, secretProviderClass: '' } }),
        code: status.UNKNOWN,
        details: () => 'secretProviderClass is not set',
      },
      {
        name: 'unknown SecretProviderClass',
        pod: { secretProviderClass: 'nope' },
        code: status.UNKNOWN,
        details: () => 'failed to get secretproviderclass shop/nope, error: secretproviderclasses.secrets-store.csi.x-k8s.io "nope" not found',
      },
      {
        name: 'SecretProviderClass of another namespace',
        pod: { secretProviderClass: 'elsewhere' },
        code: status.UNKNOWN,
        details: () => 'failed to get secretproviderclass shop/elsewhere, error: secretproviderclasses.secrets-store.csi.x-k8s.io "elsewhere" not found',
      },
      { name: 'SecretProviderClass without provider', pod: { secretProviderClass: 'no-provider' }, code: status.UNKNOWN, details: () => 'provider not set in shop/no-provider' },
      { name: 'readonly false', request: () => ({ readonly: false }), code: status.INVALID_ARGUMENT, details: () => 'Readonly is not true in request' },
      {
        name: 'SecretProviderClass of another provider',
        pod: { secretProviderClass: 'vault-class' },
        code: status.UNKNOWN,
        details: (pod: KubeletPod) => `failed to mount secrets store objects for pod ${pod.namespace}/${pod.name}, err: error connecting to provider "vault": provider not found: provider "vault"`,
      },
      {
        // Upstream refuses readonly (step 16) before it looks for the provider's plugin (step 19).
        name: 'readonly false with a SecretProviderClass of another provider',
        pod: { secretProviderClass: 'vault-class' },
        request: () => ({ readonly: false }),
        code: status.INVALID_ARGUMENT,
        details: () => 'Readonly is not true in request',
      },
      ...(['translated', 'raw'] as const).flatMap((mode) => [
        {
          name: `objectAlias escaping the target (${mode})`,
          pod: { secretProviderClass: `alias-escape-${mode}` },
          code: status.INVALID_ARGUMENT,
          // ASCP's message names the objectName here ("path can not contain ../: shop/db"); the field is ours.
          details: () => /\.\.[/_].*objects\[0\]\.objectAlias/,
        },
        {
          name: `jmesPath alias escaping the target (${mode})`,
          pod: { secretProviderClass: `jmes-escape-${mode}` },
          code: status.INVALID_ARGUMENT,
          details: () => /\.\.[/_]x.*jmesPath\[0\]\.objectAlias/,
        },
      ]),
    ];

    it.each(cases)('$name', async (c) => {
      const pod = newPod(c.pod);
      const error = await kubelet.publish(pod, c.request?.(pod)).then(
        () => undefined,
        (e: unknown) => e as { code: number; details: string },
      );
      expect(error, 'publish must fail').toBeDefined();
      expect({ code: status[error!.code], details: error!.details }).toEqual({
        code: status[c.code],
        details: typeof c.details(pod) === 'string' ? c.details(pod) : expect.stringMatching(c.details(pod)),
      });
      expect(await exists(kubelet.targetPath(pod))).toBe(false);
      expect(await mountsUnderHarness()).toEqual(
        expect.not.arrayContaining([kubelet.targetPath(pod)]),
      );
    });
  });

  describe('unpublish', () => {
    it('unmounts and removes the target, and is safe to repeat', async () => {
      const pod = newPod();
      await kubelet.publish(pod);
      await kubelet.unpublish(pod);
      expect(await exists(kubelet.targetPath(pod))).toBe(false);
      expect(await mountsUnderHarness()).not.toContain(kubelet.targetPath(pod));
      await kubelet.unpublish(pod);
    });

    it('of a target that was never mounted removes the empty directory and is not an error', async () => {
      const pod = newPod();
      await mkdir(kubelet.targetPath(pod), { recursive: true });
      await kubelet.unpublish(pod);
      expect(await exists(kubelet.targetPath(pod))).toBe(false);
      expect(await readdir(join(kubelet.targetPath(pod), '..'))).toEqual([]);
    });

    it('of a target that does not exist is not an error', async () => {
      await expect(kubelet.unpublish(newPod())).resolves.toBeUndefined();
    });
  });
});
