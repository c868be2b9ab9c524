/**
 * What the API server does to an object on every write besides storing it: name validation and the
 * few defaults clients rely on (a Secret's `stringData` folded into base64 `data`, its `type`, a
 * Namespace's phase and `kubernetes.io/metadata.name` label, a Pod's service account, restart
 * policy, scheduler and, on create, its Pending phase). Kept apart from the store so the store stays
 * about versions and conflicts.
 */
import { dns1123SubdomainErrors } from '../../core/secrets/kube-names.js';
import { invalid } from './status.js';
import type { ResourceType } from './resources.js';
import type { KubeObject } from './types.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Namespaces (and the namespace an object lives in) are DNS labels; other names DNS subdomains. */
export function validateName(type: ResourceType, name: string): void {
  const isLabel = type.kind === 'Namespace';
  const max = isLabel ? 63 : 253;
  if (name.length > max) throw invalid(type, name, 'metadata.name', `Invalid value: "${name}": must be no more than ${max} characters`);
  // Past the length check, a subdomain's only remaining error is its pattern.
  if (isLabel ? !DNS_LABEL.test(name) : dns1123SubdomainErrors(name).length > 0) {
    throw invalid(
      type,
      name,
      'metadata.name',
      `Invalid value: "${name}": a lowercase RFC 1123 ${isLabel ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    );
  }
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
