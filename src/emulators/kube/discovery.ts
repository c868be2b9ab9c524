/**
 * Discovery documents, so kubectl and KubernetesObjectApi can map kinds to URLs: /version, /api,
 * /api/v1, /apis, /apis/<group>, /apis/<group>/<version>. Only the legacy (non-aggregated) form is
 * served; clients that ask for aggregated discovery fall back to it when they get plain JSON.
 */
import { RESOURCE_TYPES, groupVersions, verbsOf } from './resources.js';
import type { ResourceType } from './resources.js';

export function versionInfo(): Record<string, string> {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-secretlet-emulator',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(group: string): Record<string, unknown> {
  const versions = groupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: `${group}/${gv.version}`, version: gv.version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(): Record<string, unknown> {
  const groups = [...new Set(groupVersions().map((gv) => gv.group))].filter((g) => g !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(apiGroup) };
}

/** The APIGroup document, or undefined when the group is not served. */
export function apiGroupDocument(group: string): Record<string, unknown> | undefined {
  return RESOURCE_TYPES.some((t) => t.group === group && group !== '') ? apiGroup(group) : undefined;
}

function apiResource(type: ResourceType): Record<string, unknown> {
  const resource: Record<string, unknown> = { name: type.plural, singularName: type.singular, namespaced: type.namespaced, kind: type.kind, verbs: verbsOf(type) };
  if (type.categories.length > 0) resource['categories'] = [...type.categories];
  if (type.shortNames.length > 0) resource['shortNames'] = [...type.shortNames];
  return resource;
}

/** The APIResourceList of one group version, or undefined when it is not served. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const type of types) {
    resources.push(apiResource(type));
    if (type.statusSubresource) {
      resources.push({ name: `${type.plural}/status`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: ['get', 'patch', 'update'] });
    }
    if (type.kind === 'ServiceAccount') {
      resources.push({
        name: 'serviceaccounts/token',
        singularName: '',
        namespaced: true,
        group: 'authentication.k8s.io',
        version: 'v1',
        kind: 'TokenRequest',
        verbs: ['create'],
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources };
}
