/**
 * What the API server does to an object on every write besides storing it: name validation and the
 * few defaults clients rely on (a Secret's `stringData` folded into base64 `data`, its `type`, a
 * Namespace's phase and `kubernetes.io/metadata.name` label, a Pod's service account, restart
 * policy, scheduler and, on create, its Pending phase). Kept apart from the store so the store stays
 * about versions and conflicts.
 */
import { dns1123LabelErrors, dns1123SubdomainErrors } from '../../core/secrets/kube-names.js';
import { invalidValue } from './field-errors.js';
import { invalidFields } from './status.js';
import type { ResourceType } from './resources.js';
import type { KubeObject } from './types.js';

/**
 * Namespaces are DNS labels (ValidateNamespaceName), other names DNS subdomains; each failed rule
 * is one `metadata.name: Invalid value` error, as ValidateObjectMeta lists them.
 */
export function validateName(type: ResourceType, name: string): void {
  const messages = type.kind === 'Namespace' ? dns1123LabelErrors(name) : dns1123SubdomainErrors(name);
  if (messages.length > 0) throw invalidFields(type, name, messages.map((m) => invalidValue('metadata.name', name, m)));
}

/**
 * What the strategies' PrepareForCreate reset on a create through the API (not on seeding, which
 * writes whole objects): a Pod starts Pending with its QoS class, a Namespace Active.
 */
export function prepareForCreate(type: ResourceType, obj: KubeObject): void {
  if (type.kind === 'Pod') obj['status'] = { phase: 'Pending', qosClass: qosClass(record(obj['spec'])) };
  if (type.kind === 'Namespace') obj['status'] = { phase: 'Active' };
}

/** The values of `resources.<part>` of every container, by resource name. */
function containerResources(container: unknown, part: 'requests' | 'limits'): Record<string, unknown> {
  return record(record(record(container)?.['resources'])?.[part]) ?? {};
}

/** qos.GetPodQOS, for cpu and memory: BestEffort without any, Guaranteed when every container's limits are its requests. */
function qosClass(spec: Record<string, unknown> | undefined): string {
  const containers = [spec?.['containers'], spec?.['initContainers']].flatMap((list) => (Array.isArray(list) ? (list as unknown[]) : []));
  const tracked = ['cpu', 'memory'];
  const any = containers.some((c) => tracked.some((r) => containerResources(c, 'requests')[r] !== undefined || containerResources(c, 'limits')[r] !== undefined));
  if (!any) return 'BestEffort';
  const guaranteed = containers.every((c) => {
    const limits = containerResources(c, 'limits');
    const requests = containerResources(c, 'requests');
    return tracked.every((r) => limits[r] !== undefined && (requests[r] === undefined || String(requests[r]) === String(limits[r])));
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Set by the API server on every Namespace write, whatever the client sent (namespace strategy Canonicalize). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * Applies the server-side defaults of each type, in place. `creating` adds what only a create sets
 * (a Pod's phase, from the pod strategy's PrepareForCreate).
 */
export function applyDefaults(type: ResourceType, obj: KubeObject, options: { creating?: boolean } = {}): void {
  switch (type.kind) {
    case 'Secret': {
      const stringData = record(obj['stringData']);
      if (stringData) {
        const data = { ...(record(obj['data']) ?? {}) };
        for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
        obj['data'] = data;
        delete obj['stringData'];
      }
      if (typeof obj['type'] !== 'string' || obj['type'] === '') obj['type'] = 'Opaque';
      break;
    }
    case 'Namespace': {
      obj['spec'] = { finalizers: ['kubernetes'], ...(record(obj['spec']) ?? {}) };
      obj['status'] = { phase: 'Active', ...(record(obj['status']) ?? {}) };
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: obj.metadata.name ?? '' };
      break;
    }
    case 'Pod': {
      const spec = record(obj['spec']);
      if (spec) {
        if (typeof spec['serviceAccountName'] !== 'string' || spec['serviceAccountName'] === '') spec['serviceAccountName'] = 'default';
        spec['serviceAccount'] ??= spec['serviceAccountName'];
        // SetDefaults_PodSpec: what the pods' spec.restartPolicy and spec.schedulerName field selectors see.
        if (typeof spec['restartPolicy'] !== 'string' || spec['restartPolicy'] === '') spec['restartPolicy'] = 'Always';
        if (typeof spec['schedulerName'] !== 'string' || spec['schedulerName'] === '') spec['schedulerName'] = 'default-scheduler';
      }
      // Seeding keeps the status it is given, but a Pod always has a phase.
      if (options.creating === true) {
        const status = record(obj['status']) ?? {};
        if (typeof status['phase'] !== 'string' || status['phase'] === '') obj['status'] = { ...status, phase: 'Pending' };
      }
      break;
    }
    default:
      break;
  }
}
