/**
 * The CRDs must be drop-in compatible with the upstream driver's: same names, versions and
 * structural schema, so every SecretProviderClass users already have (the shared fixtures) is
 * stored unchanged, and the status objects the agent writes fit the SPCPS schema.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readYamlDocuments } from '../../src/manifests/kustomization-loader.js';
import { DEPLOY_DIR } from './kustomize.js';
import type { Schema } from './structural-schema.js';
import { checkStructural } from './structural-schema.js';
import { SPC_FIXTURES_DIR } from '../support/paths.js';

const FIXTURES = SPC_FIXTURES_DIR;

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  subresources?: unknown;
  schema: { openAPIV3Schema: Schema };
}
interface Crd {
  metadata: { name: string };
  spec: { group: string; scope: string; names: Record<string, string>; versions: CrdVersion[] };
}

function crd(file: string): Crd {
  const [doc] = readYamlDocuments(join(DEPLOY_DIR, 'base', file));
  return doc as Crd;
}

const spc = crd('crd-secretproviderclasses.yaml');
const spcps = crd('crd-secretproviderclasspodstatuses.yaml');

describe.each([
  ['SecretProviderClass', spc, 'secretproviderclasses', 'secretproviderclass'],
  ['SecretProviderClassPodStatus', spcps, 'secretproviderclasspodstatuses', 'secretproviderclasspodstatus'],
] as const)('%s CRD', (kind, definition, plural, singular) => {
  it('has the upstream group, names and scope', () => {
    expect(definition.metadata.name).toBe(`${plural}.secrets-store.csi.x-k8s.io`);
    expect(definition.spec.group).toBe('secrets-store.csi.x-k8s.io');
    expect(definition.spec.scope).toBe('Namespaced');
    expect(definition.spec.names).toEqual({ kind, listKind: `${kind}List`, plural, singular });
  });

  it('serves v1 as storage and v1alpha1 deprecated with the same schema and no status subresource', () => {
    const [v1, v1alpha1] = definition.spec.versions;
    expect(definition.spec.versions.map((v) => v.name)).toEqual(['v1', 'v1alpha1']);
    expect(v1).toMatchObject({ served: true, storage: true });
    expect(v1?.deprecated ?? false).toBe(false);
    expect(v1alpha1).toMatchObject({ served: true, storage: false, deprecated: true });
    expect(v1alpha1?.schema).toEqual(v1?.schema);
    for (const v of definition.spec.versions) expect(v.subresources).toBeUndefined();
  });
});

describe('SecretProviderClass schema', () => {
  const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml'));

  it('has fixtures to check', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  it.each(fixtures)('stores %s unchanged in both versions', (file) => {
    for (const doc of readYamlDocuments(join(FIXTURES, file))) {
      const obj = doc as { kind: string };
      expect(obj.kind).toBe('SecretProviderClass');
      for (const version of spc.spec.versions) expect(checkStructural(obj, version.schema.openAPIV3Schema), `${file} as ${version.name}`).toEqual([]);
    }
  });

  const schema = spc.spec.versions[0]!.schema.openAPIV3Schema;
  const base = { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'x' } };

  it('rejects non-string parameters, as the API server does for `usePodIdentity: true` unquoted', () => {
    expect(checkStructural({ ...base, spec: { provider: 'aws', parameters: { usePodIdentity: true } } }, schema)).toEqual([
      'spec.parameters.usePodIdentity: expected string, got boolean',
    ]);
  });

  it('reports fields the server would prune and malformed secretObjects', () => {
    expect(checkStructural({ ...base, spec: { provider: 'aws', secretObject: [] } }, schema)).toEqual(['spec.secretObject: unknown field (pruned by the API server)']);
    expect(checkStructural({ ...base, spec: { secretObjects: [{ secretName: 's', data: { key: 'k' } }] } }, schema)).toEqual(['spec.secretObjects[0].data: expected array, got object']);
  });

  it('accepts every secretObjects field upstream defines', () => {
    const spec = {
      provider: 'aws',
      parameters: { objects: '- objectName: a' },
      secretObjects: [{ secretName: 's', type: 'kubernetes.io/tls', labels: { a: 'b' }, annotations: { c: 'd' }, data: [{ objectName: 'a', key: 'tls.crt' }] }],
    };
    expect(checkStructural({ ...base, spec, status: { byPod: [{ id: 'p', namespace: 'n' }] } }, schema)).toEqual([]);
  });
});

describe('SecretProviderClassPodStatus schema', () => {
  const schema = spcps.spec.versions[0]!.schema.openAPIV3Schema;

  it('accepts the object the agent writes after a mount', () => {
    const status = {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClassPodStatus',
      metadata: {
        name: 'web-0-default-my-spc',
        namespace: 'default',
        labels: { 'internal.secrets-store.csi.k8s.io/node-name': 'node-1' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'web-0', uid: '1234' }],
      },
      status: {
        podName: 'web-0',
        secretProviderClassName: 'my-spc',
        mounted: true,
        targetPath: '/var/lib/kubelet/pods/1234/volumes/kubernetes.io~csi/secrets/mount',
        objects: [{ id: 'secretsmanager/MySecret', version: 'v1' }],
      },
    };
    expect(checkStructural(status, schema)).toEqual([]);
  });

  it('rejects a string where mounted must be a boolean', () => {
    expect(checkStructural({ status: { mounted: 'true' } }, schema)).toEqual(['status.mounted: expected boolean, got string']);
  });
});
