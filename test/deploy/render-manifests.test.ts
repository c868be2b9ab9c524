/**
 * `secretlet manifests` against the real thing: with no options it must print exactly what
 * `kubectl kustomize` prints for the same overlay (one source of truth), and each option must
 * change only what it names.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretletError } from '../../src/core/errors.js';
import type { KubeObject } from '../../src/manifests/index.js';
import { renderManifests, toYaml } from '../../src/manifests/index.js';
import { byKind, container, DEPLOY_DIR, kubectlCapability, kustomize, podSpec } from './kustomize.js';

const KUBECTL = await kubectlCapability();

describe.skipIf(!KUBECTL.available)(`renderManifests equals kubectl kustomize${KUBECTL.because}`, () => {
  it.each(['kubelet', 'provider'] as const)('mode %s with defaults deep-equals the overlay, in the same order', async (mode) => {
    const expected = await kustomize(mode);
    expect(renderManifests(mode === 'kubelet' ? {} : { mode })).toEqual(expected);
  });

  it('toYaml round-trips to the same objects', async () => {
    const objects = renderManifests({ mode: 'provider' });
    const parsed = parseAllDocuments(toYaml(objects)).map((d) => d.toJS() as KubeObject);
    expect(parsed).toEqual(await kustomize('provider'));
  });
});

describe('toYaml', () => {
  it('keeps user strings as strings for kubectl, whose YAML parser is YAML 1.1', () => {
    const objects = renderManifests({ tolerations: [{ key: 'spot', operator: 'Equal', value: 'yes' }] });
    const reparsed = parseAllDocuments(toYaml(objects), { version: '1.1' }).map((d) => d.toJS() as KubeObject);
    expect(podSpec(reparsed).tolerations).toEqual([{ key: 'spot', operator: 'Equal', value: 'yes' }]);
    expect(reparsed).toEqual(objects);
  });
});

describe('renderManifests options', () => {
  const defaults = renderManifests();

  it('moves the namespaced objects and the binding subject to another namespace', () => {
    const objects = renderManifests({ namespace: 'secretlet-system' });
    expect(byKind(objects, 'ServiceAccount', 'secretlet').metadata.namespace).toBe('secretlet-system');
    expect(byKind(objects, 'DaemonSet', 'secretlet').metadata.namespace).toBe('secretlet-system');
    expect(byKind(objects, 'ClusterRoleBinding', 'secretlet').subjects).toEqual([{ kind: 'ServiceAccount', name: 'secretlet', namespace: 'secretlet-system' }]);
    // Cluster-scoped objects stay cluster-scoped.
    expect(byKind(objects, 'CSIDriver', 'secrets-store.csi.k8s.io').metadata.namespace).toBeUndefined();
    expect(byKind(objects, 'ClusterRole', 'secretlet').metadata.namespace).toBeUndefined();
  });

  it('sets the agent image, flags, resources and scheduling, and leaves the sidecars alone', () => {
    const objects = renderManifests({
      image: 'registry.example.com/secretlet:1.2.3',
      rotationInterval: '30s',
      logLevel: 'debug',
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }],
      priorityClassName: 'secretlet-critical',
    });
    const agent = container(objects, 'secretlet');
    expect(agent.image).toBe('registry.example.com/secretlet:1.2.3');
    expect(agent.args).toContain('--rotation-interval=30s');
    expect(agent.args).toContain('--log-level=debug');
    expect(agent.args?.filter((a) => a.startsWith('--rotation-interval='))).toHaveLength(1);
    expect(agent.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(podSpec(objects).tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }]);
    expect(podSpec(objects).priorityClassName).toBe('secretlet-critical');
    expect(container(objects, 'node-driver-registrar')).toEqual(container(defaults, 'node-driver-registrar'));
  });

  it('with a region passes --region and drops the nodes permission it no longer needs', () => {
    for (const mode of ['kubelet', 'provider'] as const) {
      const objects = renderManifests({ mode, region: 'eu-west-1' });
      expect(container(objects, 'secretlet').args).toContain('--region=eu-west-1');
      const rules = byKind(objects, 'ClusterRole', 'secretlet').rules as Array<{ resources: string[] }>;
      expect(rules.flatMap((r) => r.resources)).not.toContain('nodes');
      expect(rules.flatMap((r) => r.resources)).toContain('serviceaccounts');
    }
    expect(container(renderManifests({ region: '' }), 'secretlet').args).toEqual(container(defaults, 'secretlet').args);
  });

  it('sizes the call budgets for the fleet: --fleet-size and --account-quotas reach the agent, once each', () => {
    for (const mode of ['kubelet', 'provider'] as const) {
      const args = container(renderManifests({ mode, fleetSize: 400, accountQuotas: 'GetParameters=3000' }), 'secretlet').args ?? [];
      expect(args).toContain('--fleet-size=400');
      expect(args).toContain('--account-quotas=GetParameters=3000');
      expect(args.filter((a) => a.startsWith('--fleet-size='))).toHaveLength(1);
    }
    // Unset, the agent's defaults apply (100 nodes, AWS's quotas): no flag is written.
    expect(container(defaults, 'secretlet').args?.some((a) => a.startsWith('--fleet-size') || a.startsWith('--account-quotas'))).toBe(false);
  });

  it('with Secret sync off passes --sync-secrets=false and drops the access to Secrets, and only that', () => {
    const objects = renderManifests({ syncSecrets: false });
    expect(container(objects, 'secretlet').args).toEqual([...(container(defaults, 'secretlet').args ?? []), '--sync-secrets=false']);
    const rules = (o: KubeObject[]) => byKind(o, 'ClusterRole', 'secretlet').rules as Array<{ resources: string[] }>;
    expect(rules(objects).flatMap((r) => r.resources)).not.toContain('secrets');
    expect(rules(objects)).toEqual(rules(defaults).filter((r) => !r.resources.includes('secrets')));
    expect(renderManifests({ syncSecrets: true })).toEqual(defaults);
  });

  it("moves every host path under kubelet's root (hostPaths, the pods mount, the registrar's registration path) to another root", () => {
    const objects = renderManifests({ kubeletRootDir: '/opt/rke/var/lib/kubelet' });
    const text = JSON.stringify(podSpec(objects));
    expect(text).not.toMatch(/"\/var\/lib\/kubelet|=\/var\/lib\/kubelet/);
    expect(podSpec(objects).volumes.map((v) => v.hostPath?.path).filter(Boolean)).toEqual(
      podSpec(defaults).volumes.map((v) => v.hostPath?.path?.replace('/var/lib/kubelet', '/opt/rke/var/lib/kubelet')).filter(Boolean),
    );
    const mounts = container(objects, 'secretlet').volumeMounts ?? [];
    expect(mounts.find((m) => m.name === 'mountpoint-dir')).toMatchObject({ mountPath: '/opt/rke/var/lib/kubelet/pods', mountPropagation: 'Bidirectional' });
    expect(container(objects, 'node-driver-registrar').args).toContain('--kubelet-registration-path=/opt/rke/var/lib/kubelet/plugins/csi-secrets-store/csi.sock');
    // The state dir and everything else stay.
    expect(text).toContain('"/var/lib/secretlet"');
    expect(container(objects, 'secretlet').args).toEqual(container(defaults, 'secretlet').args);
  });

  it('removes the priority class when asked with an empty name', () => {
    expect(podSpec(renderManifests({ priorityClassName: '' })).priorityClassName).toBeUndefined();
  });

  it.each([
    [{ image: 'ghcr.io/secretlet/secretlet:latest' }, 'image'],
    [{ image: 'ghcr.io/secretlet/secretlet' }, 'image'],
    [{ image: 'localhost:5000/secretlet' }, 'image'],
    [{ namespace: 'Kube_System' }, 'namespace'],
    [{ rotationInterval: 'two minutes' }, 'rotationInterval'],
    [{ region: 'mars' }, 'region'],
    [{ resources: { limits: { memory: 'lots' } } }, 'resources.limits.memory'],
    [{ mode: 'sidecar' }, 'mode'],
    [{ logLevel: 'loud' }, 'logLevel'],
    [{ fleetSize: 0 }, 'fleetSize'],
    [{ fleetSize: Number('a thousand') }, 'fleetSize'],
    [{ accountQuotas: 'GetParameter=3000' }, 'accountQuotas'],
    [{ mode: 'provider', syncSecrets: false }, 'syncSecrets'],
    [{ kubeletRootDir: 'var/lib/kubelet' }, 'kubeletRootDir'],
    [{ kubeletRootDir: '/opt/kubelet/' }, 'kubeletRootDir'],
    [{ kubeletRootDir: '/opt/../kubelet' }, 'kubeletRootDir'],
    [{ mode: 'provider', kubeletRootDir: '/opt/kubelet' }, 'kubeletRootDir'],
  ] as const)('refuses %j naming the option', (options, field) => {
    let caught: unknown;
    try {
      renderManifests(options as never);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SecretletError);
    expect(caught).toMatchObject({ code: 'INVALID_ARGUMENT', field });
  });

  it('accepts an image pinned by digest or by tag behind a registry port', () => {
    const digest = `ghcr.io/secretlet/secretlet@sha256:${'a'.repeat(64)}`;
    expect(container(renderManifests({ image: digest }), 'secretlet').image).toBe(digest);
    expect(container(renderManifests({ image: 'localhost:5000/secretlet:dev-1' }), 'secretlet').image).toBe('localhost:5000/secretlet:dev-1');
  });

  it('does not share state between calls', () => {
    renderManifests({ namespace: 'other', logLevel: 'debug' });
    expect(renderManifests()).toEqual(defaults);
  });
});

describe('renderManifests reads deploy/ at run time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secretlet-deploy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('follows an edited overlay, and refuses kustomize features it cannot replay', () => {
    cpSync(DEPLOY_DIR, dir, { recursive: true });
    const daemonset = join(dir, 'base', 'daemonset.yaml');
    writeFileSync(daemonset, readFileSync(daemonset, 'utf8').replace('terminationGracePeriodSeconds: 30', 'terminationGracePeriodSeconds: 45'));
    expect(podSpec(renderManifests({ deployDir: dir })).terminationGracePeriodSeconds).toBe(45);

    const kustomization = join(dir, 'overlays', 'kubelet', 'kustomization.yaml');
    writeFileSync(kustomization, `${readFileSync(kustomization, 'utf8')}commonLabels:\n  team: infra\n`);
    expect(() => renderManifests({ deployDir: dir })).toThrow(/commonLabels.*not supported/);
  });
});
