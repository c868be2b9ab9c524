/**
 * Applies `ManifestOptions` to the objects built from an overlay. Each option touches exactly the
 * fields it names (agent flags, image, namespace references, scheduling) and leaves every other
 * field as deploy/ wrote it, so an install with no options is byte-for-byte the overlay.
 */
import { SecretletError } from '../core/errors.js';
import type { KubeObject } from './kube-object.js';
import type { CompiledManifestOptions } from './manifest-options.js';

const AGENT = 'secretlet';

interface Container {
  name: string;
  image?: string;
  args?: string[];
  resources?: unknown;
  [field: string]: unknown;
}

interface PodSpec {
  containers: Container[];
  tolerations?: unknown[];
  priorityClassName?: string;
  [field: string]: unknown;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

function missing(what: string): SecretletError {
  return new SecretletError({ code: 'FAILED_PRECONDITION', reason: 'ManifestShapeChanged', message: `deploy/ no longer has ${what}; update src/manifests` });
}

function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const obj = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!obj) throw missing(`${kind} ${name}`);
  return obj;
}

function agentPodSpec(objects: KubeObject[]): PodSpec {
  const ds = find(objects, 'DaemonSet', AGENT) as KubeObject & { spec?: { template?: { spec?: PodSpec } } };
  const spec = ds.spec?.template?.spec;
  if (!spec || !Array.isArray(spec.containers)) throw missing('DaemonSet secretlet pod template');
  return spec;
}

function agentContainer(spec: PodSpec): Container & { args: string[] } {
  const container = spec.containers.find((c) => c.name === AGENT);
  if (!container || !Array.isArray(container.args)) throw missing('the secretlet container and its args');
  return container as Container & { args: string[] };
}

/** Sets `--<flag>=<value>` in place of an existing one (or appends it); undefined removes it. */
function setFlag(args: string[], flag: string, value: string | undefined): string[] {
  const prefix = `--${flag}=`;
  const at = args.findIndex((a) => a.startsWith(prefix));
  const next = args.filter((a) => !a.startsWith(prefix));
  if (value === undefined) return next;
  next.splice(at < 0 ? next.length : at, 0, `${prefix}${value}`);
  return next;
}

/** Removes the ClusterRole's rules on core `resource` alone; returns how many it removed. */
function dropCoreRule(clusterRole: KubeObject, resource: string): number {
  const rules = clusterRole['rules'] as PolicyRule[] | undefined;
  if (!Array.isArray(rules)) throw missing('ClusterRole secretlet rules');
  const kept = rules.filter((r) => !(r.resources?.length === 1 && r.resources[0] === resource && (r.apiGroups ?? ['']).includes('')));
  clusterRole['rules'] = kept;
  return rules.length - kept.length;
}

const KUBELET_ROOT = '/var/lib/kubelet';

/**
 * Every path under kubelet's root in the pod template (hostPaths, mount paths, the registrar's
 * registration path in its args and probe) moved to `root`. The agent's pods mount keeps the same
 * path inside the container as on the host, since kubelet hands it target paths in host terms.
 */
function moveKubeletRoot(value: unknown, root: string): unknown {
  if (typeof value === 'string') return value.replace(/\/var\/lib\/kubelet(?=\/|$)/g, root);
  if (Array.isArray(value)) return value.map((v) => moveKubeletRoot(v, root));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, moveKubeletRoot(v, root)]));
  }
  return value;
}

/** A customised deep copy of `objects`; the input is not modified. */
export function customizeManifests(input: readonly KubeObject[], options: CompiledManifestOptions): KubeObject[] {
  const objects = structuredClone([...input]);
  const pod = agentPodSpec(objects);
  const agent = agentContainer(pod);

  if (options.namespace !== undefined) {
    const namespace = options.namespace;
    for (const obj of objects) {
      if (obj.metadata.namespace !== undefined) obj.metadata.namespace = namespace;
      // The binding must follow the ServiceAccount it grants.
      if (obj.kind === 'ClusterRoleBinding' || obj.kind === 'RoleBinding') {
        for (const subject of (obj['subjects'] ?? []) as Array<{ kind?: string; namespace?: string }>) {
          if (subject.kind === 'ServiceAccount') subject.namespace = namespace;
        }
      }
    }
  }
  if (options.image !== undefined) agent.image = options.image;
  if (options.region !== undefined) {
    const region = options.region === '' ? undefined : options.region;
    agent.args = setFlag(agent.args, 'region', region);
    // With a fixed default region the agent never falls back to the node's region label (ASCP
    // drops the same permission when awsRegion is set).
    if (region !== undefined) dropCoreRule(find(objects, 'ClusterRole', AGENT), 'nodes');
  }
  if (options.rotationInterval !== undefined) agent.args = setFlag(agent.args, 'rotation-interval', options.rotationInterval);
  if (options.logLevel !== undefined) agent.args = setFlag(agent.args, 'log-level', options.logLevel);
  if (options.fleetSize !== undefined) agent.args = setFlag(agent.args, 'fleet-size', String(options.fleetSize));
  if (options.accountQuotas !== undefined) agent.args = setFlag(agent.args, 'account-quotas', options.accountQuotas);
  if (options.resources !== undefined) agent.resources = options.resources;
  if (options.tolerations !== undefined) pod.tolerations = options.tolerations;
  if (options.priorityClassName !== undefined) {
    if (options.priorityClassName === '') delete pod.priorityClassName;
    else pod.priorityClassName = options.priorityClassName;
  }
  if (options.syncSecrets === false) {
    agent.args = setFlag(agent.args, 'sync-secrets', 'false');
    if (dropCoreRule(find(objects, 'ClusterRole', AGENT), 'secrets') === 0) throw missing('the ClusterRole rule on secrets');
  }
  if (options.kubeletRootDir !== undefined && options.kubeletRootDir !== KUBELET_ROOT) {
    const ds = find(objects, 'DaemonSet', AGENT) as KubeObject & { spec: { template: { spec: unknown } } };
    ds.spec.template.spec = moveKubeletRoot(ds.spec.template.spec, options.kubeletRootDir);
  }
  return objects;
}
