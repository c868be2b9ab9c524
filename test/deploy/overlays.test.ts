/**
 * The install as `kubectl apply -k deploy/overlays/<mode>` would create it, checked object by
 * object: what kubelet and the API server will see, the exact RBAC, and the security posture that
 * differs between the two modes.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { SERVE_FLAGS } from '../../src/cli/serve-flags.js';
import type { KubeObject } from '../../src/manifests/index.js';
import { isPinnedImage, renderManifests } from '../../src/manifests/index.js';
import { byKind, container, DEPLOY_DIR, kubectlCapability, kustomize, podSpec, REPO_ROOT } from './kustomize.js';

const KUBECTL = await kubectlCapability();

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

/** `group/resource -> sorted verbs`, so a rule split or merge does not hide a verb change. */
function permissions(objects: readonly KubeObject[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const rule of byKind(objects, 'ClusterRole', 'secretlet').rules as Rule[]) {
    expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        const key = `${group || 'core'}/${resource}`;
        out[key] = [...new Set([...(out[key] ?? []), ...rule.verbs])].sort();
      }
    }
  }
  return out;
}

/** `kubectl kustomize` of a site overlay using a component, next to a copy of deploy/ (kustomize refuses absolute paths). */
async function siteWith(overlay: 'kubelet' | 'provider', component: string): Promise<KubeObject[]> {
  const dir = mkdtempSync(join(tmpdir(), 'secretlet-site-'));
  try {
    cpSync(DEPLOY_DIR, join(dir, 'deploy'), { recursive: true });
    mkdirSync(join(dir, 'site'));
    writeFileSync(join(dir, 'site', 'kustomization.yaml'), `resources: [../deploy/overlays/${overlay}]\ncomponents: [../deploy/components/${component}]\n`);
    const { stdout } = await promisify(execFile)('kubectl', ['kustomize', join(dir, 'site')], { timeout: 60_000 });
    return parseAllDocuments(stdout).map((d) => d.toJS() as KubeObject);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function kinds(objects: readonly KubeObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.name}`);
}

describe.skipIf(!KUBECTL.available)(`deploy/overlays/kubelet (secretlet is the CSI driver)${KUBECTL.because}`, () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await kustomize('kubelet');
  });

  it('creates the CRDs, RBAC, CSIDriver and DaemonSet, and nothing else', () => {
    expect(kinds(objects)).toEqual([
      'CustomResourceDefinition/secretproviderclasses.secrets-store.csi.x-k8s.io',
      'CustomResourceDefinition/secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io',
      'ServiceAccount/secretlet',
      'ClusterRole/secretlet',
      'ClusterRoleBinding/secretlet',
      'DaemonSet/secretlet',
      'CSIDriver/secrets-store.csi.k8s.io',
    ]);
    expect(byKind(objects, 'ServiceAccount', 'secretlet').metadata.namespace).toBe('kube-system');
    expect(byKind(objects, 'DaemonSet', 'secretlet').metadata.namespace).toBe('kube-system');
  });

  it('registers the CSIDriver exactly as upstream v1.6 with the AWS token audiences', () => {
    const driver = byKind(objects, 'CSIDriver', 'secrets-store.csi.k8s.io');
    expect(driver.apiVersion).toBe('storage.k8s.io/v1');
    expect(driver.spec).toEqual({
      attachRequired: false,
      podInfoOnMount: true,
      volumeLifecycleModes: ['Ephemeral'],
      tokenRequests: [{ audience: 'sts.amazonaws.com' }, { audience: 'pods.eks.amazonaws.com' }],
      requiresRepublish: true,
      fsGroupPolicy: 'ReadWriteOnceWithFSType',
    });
  });

  it('grants exactly the calls the agent makes, with no token creation and no wildcard', () => {
    expect(permissions(objects)).toEqual({
      'secrets-store.csi.x-k8s.io/secretproviderclasses': ['get', 'list', 'watch'],
      'secrets-store.csi.x-k8s.io/secretproviderclasspodstatuses': ['create', 'get', 'patch', 'update'],
      'core/secrets': ['create', 'delete', 'get', 'update'],
      'core/events': ['create', 'patch'],
      'core/serviceaccounts': ['get'],
      'core/nodes': ['get'],
    });
    const binding = byKind(objects, 'ClusterRoleBinding', 'secretlet');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'secretlet' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'secretlet', namespace: 'kube-system' }]);
    expect(podSpec(objects).serviceAccountName).toBe('secretlet');
  });

  it('runs the agent as the driver: privileged, Bidirectional pod dir, socket in the plugin dir', () => {
    const agent = container(objects, 'secretlet');
    expect(agent.securityContext).toMatchObject({ privileged: true, readOnlyRootFilesystem: true });
    expect(agent.args).toEqual(expect.arrayContaining(['--mode=kubelet', '--csi-endpoint=unix:///csi/csi.sock', '--node-name=$(NODE_NAME)', '--state-dir=/var/lib/secretlet']));
    const mounts = Object.fromEntries((agent.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    expect(mounts['/var/lib/kubelet/pods']?.mountPropagation).toBe('Bidirectional');
    const volumes = Object.fromEntries(podSpec(objects).volumes.map((v) => [v.name, v.hostPath?.path]));
    expect(volumes[mounts['/csi']!.name]).toBe('/var/lib/kubelet/plugins/csi-secrets-store/');
    expect(volumes[mounts['/var/lib/kubelet/pods']!.name]).toBe('/var/lib/kubelet/pods');
    expect(volumes[mounts['/var/lib/secretlet']!.name]).toBe('/var/lib/secretlet');
    expect(volumes['registration-dir']).toBe('/var/lib/kubelet/plugins_registry/');
  });

  it('registers the socket path kubelet will dial and keeps the upstream sidecars', () => {
    const registrar = container(objects, 'node-driver-registrar');
    expect(registrar.args).toContain('--csi-address=/csi/csi.sock');
    expect(registrar.args).toContain('--kubelet-registration-path=/var/lib/kubelet/plugins/csi-secrets-store/csi.sock');
    expect(registrar.image).toMatch(/^registry\.k8s\.io\/sig-storage\/csi-node-driver-registrar:v\d+\.\d+\.\d+$/);
    expect(container(objects, 'liveness-probe').image).toMatch(/^registry\.k8s\.io\/sig-storage\/livenessprobe:v\d+\.\d+\.\d+$/);
    for (const sidecar of [registrar, container(objects, 'liveness-probe')]) expect(sidecar.securityContext?.['privileged']).toBeUndefined();
  });
});

describe.skipIf(!KUBECTL.available)(`deploy/overlays/provider (secretlet behind an upstream driver)${KUBECTL.because}`, () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await kustomize('provider');
  });

  // The CRDs too: `kubectl delete -k` of this overlay must not delete them (and every SPC with them).
  it('leaves the CSIDriver, the CRDs and the registrar to the upstream driver', () => {
    expect(kinds(objects)).toEqual([
      'ServiceAccount/secretlet',
      'ClusterRole/secretlet',
      'ClusterRoleBinding/secretlet',
      'DaemonSet/secretlet',
    ]);
    expect(podSpec(objects).containers.map((c) => c.name)).toEqual(['secretlet']);
  });

  it("has least-privilege RBAC (get serviceaccounts and nodes: ASCP's, without the pod read the agent does not need) plus creating its rotation Events", () => {
    expect(permissions(objects)).toEqual({ 'core/serviceaccounts': ['get'], 'core/nodes': ['get'], 'core/events': ['create', 'patch'] });
  });

  it('is not privileged, keeps no capability, and only sees the driver mounts (HostToContainer)', () => {
    const agent = container(objects, 'secretlet');
    expect(agent.securityContext).toMatchObject({ privileged: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(agent.args).toEqual(expect.arrayContaining(['--mode=provider', '--provider-socket=/var/run/secrets-store-csi-providers/aws.sock', '--node-name=$(NODE_NAME)']));
    expect(agent.args?.some((a) => a.startsWith('--csi-endpoint'))).toBe(false);
    const mounts = Object.fromEntries((agent.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    expect(mounts['/var/lib/kubelet/pods']?.mountPropagation).toBe('HostToContainer');
    const volumes = Object.fromEntries(podSpec(objects).volumes.map((v) => [v.name, v.hostPath?.path]));
    expect(volumes[mounts['/var/run/secrets-store-csi-providers']!.name]).toBe('/var/run/secrets-store-csi-providers');
    // No volume left over from the driver role.
    expect(Object.values(volumes)).not.toContain('/var/lib/kubelet/plugins_registry/');
    expect(Object.values(volumes)).not.toContain('/var/lib/kubelet/plugins/csi-secrets-store/');
    expect(podSpec(objects).volumes.map((v) => v.name).sort()).toEqual((agent.volumeMounts ?? []).map((m) => m.name).sort());
  });
});

describe.skipIf(!KUBECTL.available)(`both overlays${KUBECTL.because}`, () => {
  it.each(['kubelet', 'provider'] as const)('%s: schedules on every Linux node, node-critical, with probes on 8095 and NODE_NAME', async (mode) => {
    const objects = await kustomize(mode);
    const spec = podSpec(objects);
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(spec.tolerations).toEqual([{ operator: 'Exists' }]);
    // …except nodes with no kubelet of their own to serve, where its pod would stay Pending.
    expect(spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      {
        matchExpressions: [
          { key: 'eks.amazonaws.com/compute-type', operator: 'NotIn', values: ['fargate'] },
          { key: 'type', operator: 'NotIn', values: ['virtual-kubelet'] },
        ],
      },
    ]);
    expect(spec.priorityClassName).toBe('system-node-critical');
    const agent = container(objects, 'secretlet');
    expect(agent.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 8095 });
    expect(agent.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 8095 });
    expect(agent.ports).toContainEqual(expect.objectContaining({ containerPort: 8095 }));
    expect(agent.args).toContain('--metrics-addr=:8095');
    expect(agent.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } });
    expect(agent.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(agent.resources?.limits).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(agent.securityContext?.['readOnlyRootFilesystem']).toBe(true);
    // Writable paths the agent needs are volumes, since the root filesystem is read-only.
    expect((agent.volumeMounts ?? []).map((m) => m.mountPath)).toEqual(expect.arrayContaining(['/var/lib/secretlet', '/tmp']));
    for (const c of spec.containers) {
      expect(isPinnedImage(c.image), `${c.name} image ${c.image}`).toBe(true);
      expect(c.image).not.toMatch(/:latest$/);
      expect(c.resources?.limits, `${c.name} limits`).toBeDefined();
    }
  });

  it.each(['kubelet', 'provider'] as const)('%s: passes only flags that `secretlet serve` defines, each once', async (mode) => {
    const known = new Set(SERVE_FLAGS.map((f) => f.flag));
    const args = container(await kustomize(mode), 'secretlet').args ?? [];
    const flags = args.map((a) => /^--([a-z-]+)=/.exec(a)?.[1]);
    for (const [i, flag] of flags.entries()) expect(flag !== undefined && known.has(flag), `argument ${args[i]}`).toBe(true);
    expect(new Set(flags).size).toBe(flags.length);
  });

  it('ships the agent image of the package version', async () => {
    const { version } = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { version: string };
    for (const mode of ['kubelet', 'provider'] as const) {
      expect(container(await kustomize(mode), 'secretlet').image).toMatch(new RegExp(`:${version.replace(/\./g, '\\.')}$`));
    }
  });
});

describe.skipIf(!KUBECTL.available)(`deploy/components/serviceaccount-token${KUBECTL.because}`, () => {
  it('adds token creation and --mint-tokens=true, and only those, to the kubelet overlay', async () => {
    const objects = await siteWith('kubelet', 'serviceaccount-token');
    expect(permissions(objects)).toEqual({ ...permissions(await kustomize('kubelet')), 'core/serviceaccounts/token': ['create'] });
    expect(container(objects, 'secretlet').args).toEqual([...(container(await kustomize('kubelet'), 'secretlet').args ?? []), '--mint-tokens=true']);
  });

  it('refuses the provider overlay, where it would grant a cluster-wide power for nothing (that door never mints)', async () => {
    await expect(siteWith('provider', 'serviceaccount-token')).rejects.toThrow();
  });
});

describe.skipIf(!KUBECTL.available)(`deploy/components/no-secret-sync${KUBECTL.because}`, () => {
  it('turns sync off and drops the access to Secrets, exactly as `secretlet manifests --sync-secrets false` renders it', async () => {
    const objects = await siteWith('kubelet', 'no-secret-sync');
    const { 'core/secrets': removed, ...withoutSecrets } = permissions(await kustomize('kubelet'));
    expect(removed).toBeDefined();
    expect(permissions(objects)).toEqual(withoutSecrets);
    expect(permissions(objects)).not.toHaveProperty('core/secrets');
    expect(container(objects, 'secretlet').args).toEqual([...(container(await kustomize('kubelet'), 'secretlet').args ?? []), '--sync-secrets=false']);
    expect(objects).toEqual(renderManifests({ syncSecrets: false }));
  });

  it('refuses the provider overlay, which grants no Secret access to drop', async () => {
    await expect(siteWith('provider', 'no-secret-sync')).rejects.toThrow();
  });
});
