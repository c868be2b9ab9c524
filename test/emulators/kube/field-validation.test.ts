/**
 * Server-side field validation as kubectl meets it (its default `--validate=strict` sends
 * fieldValidation=Strict) and as plain HTTP sets it: unknown fields refused, warned about or
 * dropped; custom resources checked against the CRD schema's types; built-in kinds that do not
 * decode refused with the decoder's 400.
 */
import { describe, expect, it } from 'vitest';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';
import { CSI_GROUP, rawRequest } from './helpers.js';
import { emulatorWithKubectl, kubectlAvailable } from './kubectl-session.js';
import type { KubectlSession } from './kubectl-session.js';

let emulator: KubeEmulator;
let kubectl: KubectlSession;
emulatorWithKubectl((e, k) => {
  emulator = e;
  kubectl = k;
});

function post(path: string, body: unknown): ReturnType<typeof rawRequest> {
  return rawRequest(emulator, path, { token: emulator.token, method: 'POST', contentType: 'application/json', body: JSON.stringify(body) });
}

describe.skipIf(!kubectlAvailable())('fieldValidation=Strict through kubectl', () => {
  it('refuses unknown fields of a Secret, naming each', async () => {
    const file = await kubectl.file('typo.yaml', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: typo\n  lables: {a: b}\nstringdata:\n  k: v\n');
    const out = await kubectl.run('apply', '-f', file);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('Secret in version "v1" cannot be handled as a Secret: strict decoding error: unknown field "metadata.lables", unknown field "stringdata"');
    expect(emulator.get('v1', 'Secret', 'default', 'typo')).toBeUndefined();
  });

  it('refuses an unknown field of a SecretProviderClass, and a value of the wrong type with the CRD 422', async () => {
    const unknown = await kubectl.file('spc-unknown.yaml', `apiVersion: ${CSI_GROUP}/v1\nkind: SecretProviderClass\nmetadata:\n  name: s\nspec:\n  provider: aws\n  bogusField: x\n`);
    expect((await kubectl.run('apply', '-f', unknown)).stderr).toContain('strict decoding error: unknown field "spec.bogusField"');
    const typed = await kubectl.file('spc-typed.yaml', `apiVersion: ${CSI_GROUP}/v1\nkind: SecretProviderClass\nmetadata:\n  name: s\nspec:\n  provider: 7\n`);
    expect((await kubectl.run('apply', '-f', typed)).stderr).toContain(
      // kubectl prints a 422 as `The <Kind> "<name>" is invalid: <causes>`.
      'The SecretProviderClass "s" is invalid: spec.provider: Invalid value: "integer": spec.provider in body must be of type string: "integer"',
    );
    expect(emulator.get(`${CSI_GROUP}/v1`, 'SecretProviderClass', 'default', 's')).toBeUndefined();
  });
});

describe.skipIf(!kubectlAvailable())('fieldValidation=Warn through kubectl (HTTP/2)', () => {
  it('stores the object and prints the warning for a field named outside ASCII, as UTF-8', async () => {
    const file = await kubectl.file('unicode.yaml', 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: unicode-field\n名前: x\n');
    const out = await kubectl.run('create', '--validate=warn', '-f', file);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('Warning: unknown field "名前"');
    expect(emulator.get('v1', 'ServiceAccount', 'default', 'unicode-field')).toBeDefined();
  });
});

describe('fieldValidation over HTTP', () => {
  it('sends a warning naming a non-ASCII field as UTF-8 (HTTP/1.1)', async () => {
    const res = await post('/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'unicode-h1' }, 名前: 1 });
    expect(res.code).toBe(201);
    // Node hands header bytes over one character each; the API server's are UTF-8.
    expect(Buffer.from(String(res.headers['warning']), 'latin1').toString('utf8')).toBe('299 - "unknown field \\"名前\\""');
  });


  it('Warn (the default) stores the object without the unknown field and says so in a Warning header', async () => {
    const res = await post('/api/v1/namespaces/default/secrets', { metadata: { name: 'warned' }, stringdata: { k: 'v' } });
    expect(res.code).toBe(201);
    expect(res.headers['warning']).toBe('299 - "unknown field \\"stringdata\\""');
    expect(emulator.get('v1', 'Secret', 'default', 'warned')).not.toHaveProperty('stringdata');
  });

  it('Ignore drops unknown fields silently; Strict on a PATCH is the bare decoding error', async () => {
    const res = await post(`/apis/${CSI_GROUP}/v1/namespaces/default/secretproviderclasses?fieldValidation=Ignore`, {
      apiVersion: `${CSI_GROUP}/v1`,
      kind: 'SecretProviderClass',
      metadata: { name: 'ignored' },
      spec: { provider: 'aws', usePodIdentity: true },
    });
    expect(res.code).toBe(201);
    expect(res.headers['warning']).toBeUndefined();
    expect(emulator.get(`${CSI_GROUP}/v1`, 'SecretProviderClass', 'default', 'ignored')?.['spec']).toEqual({ provider: 'aws' });
    const patched = await rawRequest(emulator, `/apis/${CSI_GROUP}/v1/namespaces/default/secretproviderclasses/ignored?fieldValidation=Strict`, {
      token: emulator.token,
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ spec: { bogusField: 1 } }),
    });
    expect(patched.code).toBe(400);
    expect(JSON.parse(patched.body)).toMatchObject({ reason: 'BadRequest', message: 'strict decoding error: unknown field "spec.bogusField"' });
  });

  it('refuses a Pod whose containers are not a list with the decoder 400, and one without containers with 422', async () => {
    const notList = await post('/api/v1/namespaces/default/pods', { metadata: { name: 'p' }, spec: { containers: 'nginx' } });
    expect(JSON.parse(notList.body)).toMatchObject({
      code: 400,
      message: 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container',
    });
    const none = await post('/api/v1/namespaces/default/pods', { metadata: { name: 'p' }, spec: {} });
    expect(JSON.parse(none.body)).toMatchObject({ code: 422, reason: 'Invalid', message: 'Pod "p" is invalid: spec.containers: Required value' });
  });

  it('answers an unknown fieldValidation value with the options 422', async () => {
    const res = await post('/api/v1/namespaces/default/secrets?fieldValidation=Loud', { metadata: { name: 'x' } });
    expect(JSON.parse(res.body)).toMatchObject({
      code: 422,
      message: 'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loud": supported values: "", "Ignore", "Strict", "Warn"',
    });
  });
});
