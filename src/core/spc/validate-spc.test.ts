import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateSecretProviderClass } from './validate-spc.js';
import { readSharedSpcFixtures } from '../../../test/support/shared-fixtures.js';

const fixtures = new Map(readSharedSpcFixtures().map((f) => [f.file, f.source]));
const fixtureFiles = [...fixtures.keys()];

/** The file names a fixture's header comment promises ("Expected files: a, b." / "Expected file: a with ..."). */
function expectedFiles(source: string): string[] | undefined {
  const line = source.split('\n').find((l) => /^#\s*Expected files?:/.test(l));
  if (line === undefined) return undefined;
  const list = (line.replace(/^#\s*Expected files?:\s*/, '').split(/\.\s|\.$/)[0] ?? '').split(' with ')[0] ?? '';
  return list.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function spc(parameters: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name: 'x', namespace: 'ns' },
    spec: { provider: 'aws', ...(parameters === undefined ? {} : { parameters }), ...extra },
  };
}

describe('every shared fixture parses and validates', () => {
  it('found the fixtures', () => {
    expect(fixtureFiles.length).toBeGreaterThanOrEqual(7);
  });

  it.each(fixtureFiles)('%s', (file) => {
    const source = fixtures.get(file) ?? '';
    const report = validateSecretProviderClass(parse(source), { region: 'us-east-1' });
    if (file === 'pod-identity.yaml') {
      // Published without spec.provider: the CSI door refuses it with the upstream message.
      expect(report.errors.map((e) => [e.field, e.message])).toEqual([['spec.provider', 'provider not set in default/example-pod-identity-spc']]);
    } else {
      expect(report.errors.map((e) => e.message)).toEqual([]);
      expect(report.ok).toBe(true);
    }
    const expected = expectedFiles(source);
    if (expected !== undefined) expect([...report.files].sort()).toEqual([...expected].sort());
    else expect(report.files.length).toBeGreaterThan(0);
  });
});

describe('validateSecretProviderClass', () => {
  it('checks apiVersion, kind, provider and parameters', () => {
    const report = validateSecretProviderClass({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'n' }, spec: { provider: 'vault' } }, {});
    expect(report.ok).toBe(false);
    expect(report.errors.map((e) => e.field)).toEqual(['apiVersion', 'kind', 'spec.provider', 'spec.parameters']);
    expect(report.errors[3]?.message).toBe('parameters not set in default/n');
  });

  it('notes a deprecated v1alpha1 apiVersion', () => {
    const doc = { ...spc({ objects: '- objectName: a\n  objectType: ssmparameter\n' }), apiVersion: 'secrets-store.csi.x-k8s.io/v1alpha1' };
    const report = validateSecretProviderClass(doc, { region: 'us-east-1' });
    expect(report.ok).toBe(true);
    expect(report.notes.join(' ')).toContain('deprecated');
  });

  it('runs the mount validation: parameters and objects with their fields', () => {
    expect(validateSecretProviderClass(spc({ usePodIdentity: 'yes' }), {}).errors[0]?.field).toBe('usePodIdentity');
    const report = validateSecretProviderClass(spc({ objects: '- objectName: a\n  objectType: ssm\n' }), {});
    expect(report.errors.map((e) => e.field)).toEqual(['objects[0].objectType']);
    expect(report.files).toEqual([]);
  });

  it('reports non-string parameters (an unquoted YAML boolean)', () => {
    const report = validateSecretProviderClass(spc({ usePodIdentity: true, objects: '' }), {});
    expect(report.errors.map((e) => e.field)).toContain('spec.parameters.usePodIdentity');
  });

  it('without any region, accepts ARNs of their own region and says so', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:x';
    const report = validateSecretProviderClass(spc({ objects: `- objectName: "${arn}"\n  objectAlias: x\n` }), {});
    expect(report.ok).toBe(true);
    expect(report.notes.join(' ')).toContain('own region');
    const pinned = validateSecretProviderClass(spc({ objects: `- objectName: "${arn}"\n` }), { region: 'us-east-1' });
    expect(pinned.errors[0]?.message).toContain('ARN region must match region us-east-1');
  });

  it('uses the region parameter over opts.region', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:x';
    expect(validateSecretProviderClass(spc({ region: 'eu-west-1', objects: `- objectName: "${arn}"\n` }), { region: 'us-east-1' }).ok).toBe(true);
  });

  it('checks secretObjects against the files the mount writes', () => {
    const secretObjects = [
      { secretName: 's', type: 'Opaque', data: [{ objectName: 'app_key', key: 'K' }, { objectName: 'app/key', key: 'K2' }] },
      { secretName: '', type: '', data: [] },
      { secretName: 't', type: 'kubernetes.io/tls', data: [{ objectName: 'app_key', key: 'ca.crt' }, { objectName: ' ', key: '' }] },
    ];
    const report = validateSecretProviderClass(spc({ objects: '- objectName: app/key\n  objectType: ssmparameter\n' }, { secretObjects }), { region: 'us-east-1' });
    expect(report.files).toEqual(['app_key']);
    expect(report.errors.map((e) => [e.field, e.message.split(' (')[0]])).toEqual([
      ['spec.secretObjects[0].data[1].objectName', 'file matching objectName app/key not found in the pod'],
      ['spec.secretObjects[1].secretName', 'secret name is empty'],
      ['spec.secretObjects[1].type', 'secret type is empty'],
      ['spec.secretObjects[1].data', 'data is empty'],
      ['spec.secretObjects[2].data[0].key', "key 'ca.crt' is not supported. Only 'tls.key' and 'tls.crt' are supported"],
      ['spec.secretObjects[2].data[1].objectName', 'object name in secretObjects.data is empty'],
      ['spec.secretObjects[2].data[1].key', 'key in secretObjects.data is empty'],
      ['spec.secretObjects[2].data', 'a Secret of type kubernetes.io/tls needs data[tls.crt] and data[tls.key]: the API server refuses the synced Secret'],
    ]);
  });

  it('reports a secretObjects entry whose Secret the API server would refuse at every sync', () => {
    const data = (...keys: string[]) => keys.map((key) => ({ objectName: 'app_key', key }));
    const secretObjects = [
      { secretName: 'Pull_Secret', type: 'kubernetes.io/dockerconfigjson', data: data('config.json') },
      { secretName: 'web', type: 'kubernetes.io/tls', data: data('tls.crt') },
      { secretName: 'db', type: 'Opaque', data: data('db password', '..hidden') },
      { secretName: 'login', type: 'kubernetes.io/basic-auth', data: data('user') },
      { secretName: 'token', type: 'kubernetes.io/service-account-token', data: data('token') },
      {
        secretName: 'labelled',
        type: 'Opaque',
        labels: { 'app.kubernetes.io/name': 'web', team: 'payments team', 'Bad_Prefix/x': 'y', 'example.com/': 'z' },
        annotations: { 'example.com/owner': 'a b c', '-bad': 'x' },
        data: data('K'),
      },
      // Each of these is accepted.
      { secretName: 'ok.example', type: 'kubernetes.io/basic-auth', labels: { tier: '', 'a.b/c-d_e.f': 'G.h-1' }, annotations: { 'Example.COM/Owner': 'x' }, data: data('password') },
      { secretName: 'sa', type: 'kubernetes.io/service-account-token', annotations: { 'kubernetes.io/service-account.name': 'app' }, data: data('token') },
      { secretName: 'custom', type: 'example.com/anything', data: data('A_KEY-1.x') },
    ];
    const report = validateSecretProviderClass(spc({ objects: '- objectName: app/key\n  objectType: ssmparameter\n' }, { secretObjects }), { region: 'us-east-1' });
    // The API server's own words (apimachinery), up to its examples and regex.
    expect(report.errors.map((e) => [e.field, e.message.split(' (e.g.')[0]!.split(': the API server')[0]])).toEqual([
      ['spec.secretObjects[0].secretName', 'secret name "Pull_Secret": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character'],
      ['spec.secretObjects[0].data', 'a Secret of type kubernetes.io/dockerconfigjson needs data[.dockerconfigjson]'],
      ['spec.secretObjects[1].data', 'a Secret of type kubernetes.io/tls needs data[tls.key]'],
      ['spec.secretObjects[2].data[0].key', 'data key "db password": a valid config key must consist of alphanumeric characters, \'-\', \'_\' or \'.\''],
      ['spec.secretObjects[2].data[1].key', 'data key "..hidden": must not start with \'..\''],
      ['spec.secretObjects[3].data', 'a Secret of type kubernetes.io/basic-auth needs data[username] or data[password]'],
      ['spec.secretObjects[4].data', 'a Secret of type kubernetes.io/service-account-token needs metadata.annotations[kubernetes.io/service-account.name]'],
      ['spec.secretObjects[5].labels', 'label value "payments team" (of team): a valid label must be an empty string or consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character'],
      ['spec.secretObjects[5].labels', 'label key "Bad_Prefix/x": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character'],
      ['spec.secretObjects[5].labels', 'label key "example.com/": name part must be non-empty'],
      ['spec.secretObjects[5].annotations', 'annotation key "-bad": name part must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character'],
    ]);
    expect(report.errors.every((e) => e.message.endsWith(`: the API server refuses the synced Secret (${e.field ?? ''})`))).toBe(true);
  });
});

describe('a class with no objects', () => {
  it.each(['', '[]', 'null'])('objects %j fails as its mount would: the driver refuses a mount without object versions', (objects) => {
    const report = validateSecretProviderClass(spc({ region: 'us-east-1', objects }), {});
    expect(report.ok).toBe(false);
    expect(report.errors.map((e) => [e.field, e.message])).toEqual([['objects', 'missing object versions']]);
    expect(report.notes.join('\n')).toContain('lists no objects');
  });
});

describe('secretObjects naming one Secret twice', () => {
  it('validates (a mount works) and notes that only the last entry ends up in the Secret', () => {
    const entry = (key: string) => ({ secretName: 'db', type: 'Opaque', data: [{ objectName: 'db', key }] });
    const report = validateSecretProviderClass(spc({ region: 'us-east-1', objects: '- objectName: db\n  objectType: secretsmanager\n' }, { secretObjects: [entry('password'), entry('user')] }), {});
    expect(report.errors).toEqual([]);
    expect(report.notes).toContain('secretObjects name "db" more than once: only the last such entry\'s data ends up in the Secret, as with the upstream driver');
  });
});
