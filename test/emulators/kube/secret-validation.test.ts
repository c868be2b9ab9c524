/**
 * The API server's Secret rules through client-node: what a real cluster refuses with 422 Invalid
 * (a Status naming each field in `details.causes`) is refused here too, and nothing is stored.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, startWithClients } from './helpers.js';
import type { Clients } from './helpers.js';

const NS = 'secrets';
let c: Clients;
beforeAll(async () => {
  c = await startWithClients({}, [NS]);
});
afterAll(async () => {
  await c.emulator.stop();
});

const b64 = (text: string): string => Buffer.from(text).toString('base64');

function create(body: V1Secret): Promise<V1Secret> {
  return c.core.createNamespacedSecret({ namespace: NS, body });
}

describe('Secret create validation', () => {
  it.each<[string, V1Secret, string, { reason: string; field: string; message: string }[]]>([
    [
      'a data key with a space',
      { metadata: { name: 'bad-key' }, data: { 'a b': b64('x') } },
      `Secret "bad-key" is invalid: data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      [{ reason: 'FieldValueInvalid', field: 'data[a b]', message: expect.stringMatching(/^Invalid value: "a b": a valid config key/) as unknown as string }],
    ],
    [
      'a data key of ".."',
      { metadata: { name: 'dots' }, stringData: { '..': 'x' } },
      `Secret "dots" is invalid: data[..]: Invalid value: "..": must not be '..'`,
      [{ reason: 'FieldValueInvalid', field: 'data[..]', message: `Invalid value: "..": must not be '..'` }],
    ],
    [
      'kubernetes.io/tls without its keys',
      { metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('cert') } },
      'Secret "tls" is invalid: data[tls.key]: Required value',
      [{ reason: 'FieldValueRequired', field: 'data[tls.key]', message: 'Required value' }],
    ],
    [
      'kubernetes.io/dockerconfigjson without .dockerconfigjson',
      { metadata: { name: 'pull' }, type: 'kubernetes.io/dockerconfigjson', data: { other: b64('{}') } },
      'Secret "pull" is invalid: data[.dockerconfigjson]: Required value',
      [{ reason: 'FieldValueRequired', field: 'data[.dockerconfigjson]', message: 'Required value' }],
    ],
    [
      'kubernetes.io/basic-auth with neither username nor password',
      { metadata: { name: 'basic' }, type: 'kubernetes.io/basic-auth', data: { token: b64('t') } },
      'Secret "basic" is invalid: [data[username]: Required value, data[password]: Required value]',
      [
        { reason: 'FieldValueRequired', field: 'data[username]', message: 'Required value' },
        { reason: 'FieldValueRequired', field: 'data[password]', message: 'Required value' },
      ],
    ],
    [
      'kubernetes.io/ssh-auth with an empty private key',
      { metadata: { name: 'ssh' }, type: 'kubernetes.io/ssh-auth', data: { 'ssh-privatekey': '' } },
      'Secret "ssh" is invalid: data[ssh-privatekey]: Required value',
      [{ reason: 'FieldValueRequired', field: 'data[ssh-privatekey]', message: 'Required value' }],
    ],
  ])('refuses %s with 422 Invalid', async (_what, body, message, causes) => {
    const refused = await failure(create(body));
    expect(refused.code).toBe(422);
    expect(refused.status).toMatchObject({ kind: 'Status', reason: 'Invalid', message, details: { name: body.metadata?.name, kind: 'Secret', causes } });
    expect(c.emulator.get('v1', 'Secret', NS, body.metadata?.name ?? '')).toBeUndefined();
  });

  it('refuses malformed .dockerconfigjson contents without quoting them, and takes each well-known type with its keys', async () => {
    const refused = await failure(create({ metadata: { name: 'pull-bad' }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': 'hunter2-not-json' } }));
    expect(refused.status).toMatchObject({ code: 422, reason: 'Invalid', details: { causes: [{ field: 'data[.dockerconfigjson]' }] } });
    expect(JSON.stringify(refused.status)).not.toContain('hunter2');
    expect(String(refused.status['message'])).toContain('<secret contents redacted>');

    await create({ metadata: { name: 'tls-ok' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c'), 'tls.key': b64('k') } });
    await create({ metadata: { name: 'pull-ok' }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":{}}' } });
    // Either of username and password will do.
    await create({ metadata: { name: 'basic-ok' }, type: 'kubernetes.io/basic-auth', stringData: { username: 'u' } });
    await create({ metadata: { name: 'ssh-ok' }, type: 'kubernetes.io/ssh-auth', stringData: { 'ssh-privatekey': 'k' } });
    expect(c.emulator.list('v1', 'Secret', NS).map((s) => s.metadata.name)).toEqual(expect.arrayContaining(['tls-ok', 'pull-ok', 'basic-ok', 'ssh-ok']));
  });

  it('refuses data over 1 MiB in total with 422 Too long', async () => {
    const half = Buffer.alloc(600 * 1024, 1).toString('base64');
    const refused = await failure(create({ metadata: { name: 'big' }, data: { a: half, b: half } }));
    expect(refused.status).toMatchObject({
      code: 422,
      message: 'Secret "big" is invalid: data: Too long: must have at most 1048576 bytes',
      details: { causes: [{ reason: 'FieldValueTooLong', field: 'data', message: 'Too long: must have at most 1048576 bytes' }] },
    });
  });
});

describe('Secret create of a name that exists', () => {
  it('validates before the existence check: an invalid object is 422 Invalid, a valid one 409 AlreadyExists (also as a dry run)', async () => {
    await create({ metadata: { name: 'taken' }, data: { key: b64('v') } });
    const invalidType: V1Secret = { metadata: { name: 'taken' }, type: 'kubernetes.io/dockerconfigjson', data: { key: b64('v') } };
    for (const dryRun of [undefined, 'All']) {
      const args = { namespace: NS, ...(dryRun === undefined ? {} : { dryRun }) };
      expect((await failure(c.core.createNamespacedSecret({ ...args, body: invalidType }))).code).toBe(422);
      expect((await failure(c.core.createNamespacedSecret({ ...args, body: { metadata: { name: 'taken' }, data: { key: b64('w') } } }))).code).toBe(409);
    }
  });
});

describe('Secret update validation', () => {
  it('refuses a change of type: the field is immutable', async () => {
    const created = await create({ metadata: { name: 'typed' }, type: 'Opaque', data: { 'tls.crt': b64('c'), 'tls.key': b64('k') } });
    const refused = await failure(c.core.replaceNamespacedSecret({ name: 'typed', namespace: NS, body: { ...created, type: 'kubernetes.io/tls' } }));
    expect(refused.status).toMatchObject({
      code: 422,
      reason: 'Invalid',
      message: 'Secret "typed" is invalid: type: Invalid value: "kubernetes.io/tls": field is immutable',
      details: { name: 'typed', kind: 'Secret', causes: [{ reason: 'FieldValueInvalid', field: 'type', message: 'Invalid value: "kubernetes.io/tls": field is immutable' }] },
    });
    expect((await c.core.readNamespacedSecret({ name: 'typed', namespace: NS })).type).toBe('Opaque');
  });

  it('keeps an immutable Secret: no data change, no stringData change, no way back to mutable; metadata may still change', async () => {
    await create({ metadata: { name: 'frozen' }, immutable: true, data: { k: b64('v1') } });
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const forbidden = 'field is immutable when `immutable` is set';

    const dataChange = await failure(c.core.patchNamespacedSecret({ name: 'frozen', namespace: NS, body: { data: { k: b64('v2') } } }, merge));
    expect(dataChange.status).toMatchObject({ code: 422, message: `Secret "frozen" is invalid: data: Forbidden: ${forbidden}`, details: { causes: [{ reason: 'FieldValueForbidden', field: 'data' }] } });
    const stringDataChange = await failure(c.core.patchNamespacedSecret({ name: 'frozen', namespace: NS, body: { stringData: { extra: 'x' } } }, merge));
    expect(stringDataChange.status).toMatchObject({ code: 422, details: { causes: [{ field: 'data' }] } });
    const thaw = await failure(c.core.patchNamespacedSecret({ name: 'frozen', namespace: NS, body: { immutable: false } }, merge));
    expect(thaw.status).toMatchObject({ code: 422, message: `Secret "frozen" is invalid: immutable: Forbidden: ${forbidden}`, details: { causes: [{ reason: 'FieldValueForbidden', field: 'immutable' }] } });

    const labelled = await c.core.patchNamespacedSecret({ name: 'frozen', namespace: NS, body: { metadata: { labels: { rotated: 'no' } } } }, merge);
    expect(labelled.metadata?.labels).toEqual({ rotated: 'no' });
    expect(labelled.data).toEqual({ k: b64('v1') });
    expect(labelled.immutable).toBe(true);
  });
});
