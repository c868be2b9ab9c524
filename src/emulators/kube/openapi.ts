/**
 * Minimal OpenAPI v3 documents. kubectl 1.32 reads them before `apply`/`create` to learn whether
 * the server validates fields itself (a `fieldValidation` query parameter on the PATCH operation of
 * the kind); when it does, kubectl skips client-side schema validation, which would otherwise need
 * full schemas. No schemas are published, so kubectl falls back to its compiled-in knowledge for
 * strategic merge patches of built-in types and to JSON merge patch for the CSI types.
 */
import { RESOURCE_TYPES, groupVersions } from './resources.js';
import type { ResourceType } from './resources.js';

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** `/openapi/v3`: the index of group-version documents. */
export function openApiV3Index(): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions()) {
    const path = gvPath(gv.group, gv.version);
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=secretlet-emulator-1` };
  }
  return { paths };
}

function itemPath(type: ResourceType): string {
  const base = `/${gvPath(type.group, type.version)}`;
  return type.namespaced ? `${base}/namespaces/{namespace}/${type.plural}/{name}` : `${base}/${type.plural}/{name}`;
}

function patchOperation(type: ResourceType): Record<string, unknown> {
  return {
    operationId: `patch${type.kind}`,
    'x-kubernetes-action': 'patch',
    'x-kubernetes-group-version-kind': { group: type.group, version: type.version, kind: type.kind },
    parameters: [
      { name: 'dryRun', in: 'query', schema: { type: 'string' } },
      { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
      { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
      { name: 'force', in: 'query', schema: { type: 'boolean' } },
    ],
    requestBody: {
      content: {
        'application/json-patch+json': { schema: { type: 'object' } },
        'application/merge-patch+json': { schema: { type: 'object' } },
        'application/apply-patch+yaml': { schema: { type: 'object' } },
      },
    },
    responses: { '200': { description: 'OK' } },
  };
}

/** `/openapi/v3/<api/v1 | apis/group/version>`, or undefined when the group version is not served. */
export function openApiV3Document(path: string): Record<string, unknown> | undefined {
  const types = RESOURCE_TYPES.filter((t) => gvPath(t.group, t.version) === path);
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const type of types) paths[itemPath(type)] = { patch: patchOperation(type) };
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}
