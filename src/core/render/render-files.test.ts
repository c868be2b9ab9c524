import { describe, expect, it } from 'vitest';
import type { FetchedObject, MountPlan, ObjectDescriptor } from '../model.js';
import { renderFiles } from './render-files.js';
import { thrown } from '../../../test/support/thrown.js';
import { descriptor, mountPlan } from '../../../test/support/descriptors.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function plan(objects: ObjectDescriptor[], defaultMode = 0o644): MountPlan {
  return mountPlan(objects, { defaultMode });
}

function value(text: string, version: string): FetchedObject {
  return { bytes: enc.encode(text), version };
}


const JSON_SECRET = '{"username":"admin","password":"s3cr3t-VALUE","port":5432,"nested":{"k":"v"},"my-key":"dash","nothing":null}';

describe('renderFiles', () => {
  it('writes the main file and one file per JMES entry, with modes per §13.1', () => {
    const d = descriptor({
      index: 0,
      objectName: 'db',
      filePermission: '0640',
      jmesPath: [
        { path: 'username', objectAlias: 'db/user', filePermission: '' },
        { path: 'password', objectAlias: 'pass', filePermission: '0400' },
        { path: '"my-key"', objectAlias: 'dash', filePermission: '' },
      ],
    });
    const other = descriptor({ index: 1, objectName: 'plain' });
    const out = renderFiles(plan([d, other]), new Map([[0, value(JSON_SECRET, 'v1')], [1, value('raw', 'v9')]]));
    expect(out.files.map((f) => [f.path, f.mode.toString(8), dec.decode(f.contents)])).toEqual([
      ['db', '640', JSON_SECRET],
      ['db_user', '640', 'admin'],
      ['pass', '400', 's3cr3t-VALUE'],
      ['dash', '640', 'dash'],
      ['plain', '644', 'raw'],
    ]);
    expect(out.versions).toEqual([
      { id: 'dash', version: 'v1' },
      { id: 'db', version: 'v1' },
      { id: 'db_user', version: 'v1' },
      { id: 'pass', version: 'v1' },
      { id: 'plain', version: 'v9' },
    ]);
  });

  it('keeps only the 0777 bits of any mode', () => {
    const d = descriptor({ index: 0, objectName: 'a', filePermission: '4755' });
    const out = renderFiles(plan([d], 0o100644), new Map([[0, value('x', '1')]]));
    expect(out.files[0]?.mode).toBe(0o755);
    const e = descriptor({ index: 0, objectName: 'a' });
    expect(renderFiles(plan([e], 0o100644), new Map([[0, value('x', '1')]])).files[0]?.mode).toBe(0o644);
  });

  it.each([
    ['not json', 'username', 'objects[0].jmesPath', 'Invalid JSON used with jmesPath in secret: db. (objects[0].jmesPath)'],
    [JSON_SECRET, '.username', 'objects[0].jmesPath[0].path', 'Invalid JMES Path: .username. (objects[0].jmesPath[0].path)'],
    [JSON_SECRET, 'missing', 'objects[0].jmesPath[0].path', 'JMES Path - missing for object alias - out does not point to a valid object. (objects[0].jmesPath[0].path)'],
    [JSON_SECRET, 'nothing', 'objects[0].jmesPath[0].path', 'JMES Path - nothing for object alias - out does not point to a valid object. (objects[0].jmesPath[0].path)'],
    [JSON_SECRET, 'port', 'objects[0].jmesPath[0].path', 'Invalid JMES search result type for path:port. Only string is allowed. (objects[0].jmesPath[0].path)'],
    [JSON_SECRET, 'nested', 'objects[0].jmesPath[0].path', 'Invalid JMES search result type for path:nested. Only string is allowed. (objects[0].jmesPath[0].path)'],
    // go-jmespath 0.4.0 (ASCP) has none of the newer functions and syntax, and slices only arrays.
    [JSON_SECRET, 'upper(username)', 'objects[0].jmesPath[0].path', 'Invalid JMES Path: upper(username). (objects[0].jmesPath[0].path)'],
    [JSON_SECRET, '$.username', 'objects[0].jmesPath[0].path', 'Invalid JMES Path: $.username. (objects[0].jmesPath[0].path)'],
    [JSON_SECRET, 'port + `1`', 'objects[0].jmesPath[0].path', 'Invalid JMES Path: port + `1`. (objects[0].jmesPath[0].path)'],
    [JSON_SECRET, 'password[0:4]', 'objects[0].jmesPath[0].path', 'JMES Path - password[0:4] for object alias - out does not point to a valid object. (objects[0].jmesPath[0].path)'],
    // A key named like a JavaScript object's property is a missing key, as in Go.
    [JSON_SECRET, 'constructor', 'objects[0].jmesPath[0].path', 'JMES Path - constructor for object alias - out does not point to a valid object. (objects[0].jmesPath[0].path)'],
  ])('JMES error for %j / %j', (secret, path, field, message) => {
    const d = descriptor({ index: 0, objectName: 'db', jmesPath: [{ path, objectAlias: 'out', filePermission: '' }] });
    const e = thrown(() => renderFiles(plan([d]), new Map([[0, value(secret, 'v1')]])));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.reason).toBe('JmesPathFailed');
    expect(e.field).toBe(field);
    expect(e.message).toBe(message);
    expect(e.message).not.toContain('s3cr3t');
  });

  it('accepts any JSON top-level value for JMES and a byte-order mark is invalid JSON', () => {
    const d = descriptor({ index: 0, objectName: 'a', jmesPath: [{ path: '[0]', objectAlias: 'first', filePermission: '' }] });
    expect(dec.decode(renderFiles(plan([d]), new Map([[0, value('["x"]', '1')]])).files[1]?.contents)).toBe('x');
    const bom = thrown(() => renderFiles(plan([d]), new Map([[0, value('\uFEFF["x"]', '1')]])));
    expect(bom.message).toContain('Invalid JSON used with jmesPath');
  });

  it("renders what go-jmespath renders: to_string lists an object's keys sorted, a missing key falls to not_null's default", () => {
    const secret = '{"db":{"user":"admin","host":"db","opts":"x"},"password":"s3cr3t-VALUE"}';
    const d = descriptor({
      index: 0,
      objectName: 'db',
      jmesPath: [
        { path: 'to_string(db)', objectAlias: 'json', filePermission: '' },
        { path: 'not_null(constructor, `"fallback"`)', objectAlias: 'fallback', filePermission: '' },
        { path: 'join(`,`, keys(db))', objectAlias: 'keys', filePermission: '' },
      ],
    });
    const files = renderFiles(plan([d]), new Map([[0, value(secret, 'v1')]])).files.slice(1);
    expect(files.map((f) => [f.path, dec.decode(f.contents)])).toEqual([
      ['json', '{"host":"db","opts":"x","user":"admin"}'],
      ['fallback', 'fallback'],
      ['keys', 'host,opts,user'],
    ]);
  });

  it('refuses a path that could build gigabytes from the secret, before running it, naming the entry', () => {
    const path = `to_string([@,@]${' | [@,@]'.repeat(23)})`;
    const d = descriptor({ index: 0, objectName: 'db', jmesPath: [{ path, objectAlias: 'bomb', filePermission: '' }] });
    const e = thrown(() => renderFiles(plan([d]), new Map([[0, value(JSON_SECRET, 'v1')]])));
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'JmesPathFailed', field: 'objects[0].jmesPath[0].path' });
    expect(e.message).toContain('for object alias - bomb could build values over 4194304 bytes; secretlet refuses such paths.');
    expect(e.message).not.toMatch(/\d+-byte/);
    expect(e.message).not.toContain('s3cr3t');
  });

  it('reads invalid UTF-8 in a binary JSON secret as Go does: one U+FFFD per bad byte', () => {
    const d = descriptor({ index: 0, objectName: 'bin', jmesPath: [{ path: 'k', objectAlias: 'k', filePermission: '' }] });
    const secret = new Uint8Array([...enc.encode('{"k":"a'), 0xe2, 0x82, ...enc.encode('b"}')]);
    const out = renderFiles(plan([d]), new Map([[0, { bytes: secret, version: 'v1' }]]));
    expect(dec.decode(out.files[1]?.contents)).toBe('a\uFFFD\uFFFDb');
  });

  it('refuses to render without a value for every object', () => {
    const e = thrown(() => renderFiles(plan([descriptor({ index: 0, objectName: 'a' })]), new Map()));
    expect(e.code).toBe('INTERNAL');
  });
});
