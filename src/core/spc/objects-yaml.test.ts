import { describe, expect, it } from 'vitest';
import { parseObjectsYaml } from './objects-yaml.js';
import type { RawObjectEntry } from './objects-yaml.js';
import { thrown } from '../../../test/support/thrown.js';


function only(text: string): RawObjectEntry {
  const [first, ...rest] = parseObjectsYaml(text);
  expect(rest).toHaveLength(0);
  if (first === null || first === undefined) throw new Error('expected one object');
  return first;
}

describe('objects YAML (sigs.k8s.io/yaml semantics)', () => {
  it.each(['', 'null', '[]', '~'])('%j is zero objects', (text) => {
    expect(parseObjectsYaml(text)).toEqual([]);
  });

  it('reads a YAML list and a JSON array alike', () => {
    const fromYaml = parseObjectsYaml('- objectName: a\n  objectType: secretsmanager\n');
    const fromJson = parseObjectsYaml('[{"objectName": "a", "objectType": "secretsmanager"}]');
    expect(fromJson).toEqual(fromYaml);
    expect(fromYaml[0]?.objectName).toBe('a');
  });

  it('matches field names case-insensitively, exact case winning', () => {
    const o = only('- OBJECTNAME: folded\n  objectType: ssmparameter\n  jmesPath:\n    - Path: user\n      ObjectAlias: u\n');
    expect(o.objectName).toBe('folded');
    expect(o.jmesPath).toEqual([{ path: 'user', objectAlias: 'u', filePermission: '' }]);
    expect(only('- ObjectName: folded\n  objectName: exact\n').objectName).toBe('exact');
    expect(only('- objectName: exact\n  OBJECTNAME: folded\n').objectName).toBe('exact');
  });

  it('ignores unknown fields', () => {
    expect(only('- objectName: a\n  backupArn: x\n  inFallback: true\n').objectName).toBe('a');
  });

  it.each([
    ['filePermission: 0644', 'filePermission', '420'],
    ['filePermission: 0600', 'filePermission', '384'],
    ['objectVersion: 1', 'objectVersion', '1'],
    ['objectVersion: 0x1F', 'objectVersion', '31'],
    ['objectVersion: 0o17', 'objectVersion', '15'],
    ['objectVersion: 1_000', 'objectVersion', '1000'],
    ['objectVersion: 1.5', 'objectVersion', '1.5'],
    ['objectVersion: 3.0', 'objectVersion', '3'],
    ['objectVersion: 1e6', 'objectVersion', '1e+06'],
    ['objectVersion: 09', 'objectVersion', '9'],
    ['objectVersion: yes', 'objectVersion', 'true'],
    ['objectVersion: off', 'objectVersion', 'false'],
    ['objectVersion: 12:30', 'objectVersion', '12:30'],
    ['objectVersion: 2001-12-14', 'objectVersion', '2001-12-14'],
    ['objectVersion: null', 'objectVersion', ''],
    ['objectVersion:', 'objectVersion', ''],
    ["filePermission: '0644'", 'filePermission', '0644'],
    ['objectVersion: !!str 0644', 'objectVersion', '0644'],
  ])('coerces `%s`', (line, field, expected) => {
    const o = only(`- objectName: a\n  ${line}\n`) as unknown as Record<string, string>;
    expect(o[field]).toBe(expected);
  });

  it('follows anchors and merge keys', () => {
    const list = parseObjectsYaml('- &base\n  objectName: a\n  objectType: ssmparameter\n- <<: *base\n  objectAlias: b\n');
    expect(list[1]).toMatchObject({ objectName: 'a', objectType: 'ssmparameter', objectAlias: 'b' });
  });

  it('applies a merge key where it stands, as go-yaml v2: it overrides the keys before it, the keys after it override it', () => {
    const base = '- &base\n  objectName: shared-db\n  objectType: secretsmanager\n';
    const after = parseObjectsYaml(`${base}- objectName: app-db\n  <<: *base\n  objectAlias: app\n`);
    expect(after[1]).toMatchObject({ objectName: 'shared-db', objectAlias: 'app' });
    const before = parseObjectsYaml(`${base}- <<: *base\n  objectName: app-db\n`);
    expect(before[1]).toMatchObject({ objectName: 'app-db', objectType: 'secretsmanager' });
    // Of a merged sequence, the earlier maps win.
    const seq = parseObjectsYaml('- &a {objectName: a, objectType: ssmparameter}\n- &b {objectName: b, objectAlias: bb}\n- <<: [*a, *b]\n');
    expect(seq[2]).toMatchObject({ objectName: 'a', objectType: 'ssmparameter', objectAlias: 'bb' });
  });

  it.each(['<<: notamap', '<<: [*base, 7]', '<<: ~'])('refuses `%s` as go-yaml does', (merge) => {
    const e = thrown(() => parseObjectsYaml(`- &base\n  objectName: a\n  objectType: ssmparameter\n- ${merge}\n  objectAlias: b\n`));
    expect(e.message).toBe('Failed to load SecretProviderClass: error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value (objects)');
  });

  it('reads merge keys over shared anchors without expanding them', () => {
    // Each level merges the previous one twice: 2^6 copies, under go-yaml's aliasing limit.
    const levels = ['x0: &a0 {objectName: deep, objectType: ssmparameter}'];
    for (let i = 1; i <= 6; i++) levels.push(`x${i}: &a${i} {<<: [*a${i - 1}, *a${i - 1}]}`);
    const text = `- objectAlias: top\n  ${levels.join('\n  ')}\n  <<: *a6\n`;
    expect(parseObjectsYaml(text)[0]).toMatchObject({ objectName: 'deep', objectAlias: 'top' });
  });

  it.each([
    ['merge keys nested 40 levels (2^40 nodes)', (() => {
      const levels = ['x0: &a0 {objectName: deep, objectType: ssmparameter}'];
      for (let i = 1; i <= 40; i++) levels.push(`x${i}: &a${i} {<<: [*a${i - 1}, *a${i - 1}]}`);
      return `- objectAlias: top\n  ${levels.join('\n  ')}\n  <<: *a40\n`;
    })()],
    ['an object of 1,000 aliased jmesPath entries, aliased 1,000 times (12 KB)', `- &o\n  objectName: x\n  objectType: secretsmanager\n  jmesPath:\n  - &j {path: a, objectAlias: b}\n${'  - *j\n'.repeat(999)}${'- *o\n'.repeat(999)}`],
  ])('refuses %s as go-yaml does: excessive aliasing, found without expanding it', (_what, text) => {
    // Before, the 12 KB document took 117 s: every alias was resolved by walking the whole document.
    const e = thrown(() => parseObjectsYaml(text));
    expect(e.message).toBe('Failed to load SecretProviderClass: error converting YAML to JSON: yaml: document contains excessive aliasing (objects)');
  });

  it('reads a long flat list of aliases in one pass over the document', () => {
    const text = `- &o\n  objectName: x\n  objectType: secretsmanager\n${'- *o\n'.repeat(16_000)}`;
    expect(parseObjectsYaml(text)).toHaveLength(16_001);
  });

  it('skips a byte-order mark at the start of the text, as go-yaml does', () => {
    expect(parseObjectsYaml('\uFEFF- objectName: a\n  objectType: ssmparameter\n')).toMatchObject([{ objectName: 'a', objectType: 'ssmparameter' }]);
  });

  it('refuses an alias to an unknown anchor', () => {
    const e = thrown(() => parseObjectsYaml('- objectName: *nope\n'));
    expect(e.message).toBe("Failed to load SecretProviderClass: error converting YAML to JSON: yaml: unknown anchor 'nope' referenced (objects)");
  });

  it('keeps a null element for the validator to report in order', () => {
    expect(parseObjectsYaml('- objectName: a\n-\n')).toEqual([expect.objectContaining({ objectName: 'a' }), null]);
  });

  it('reads failoverObject, and null jmesPath / failoverObject as empty', () => {
    const o = only('- objectName: a\n  jmesPath: null\n  failoverObject:\n    objectName: b\n    objectVersion: 2\n');
    expect(o.jmesPath).toEqual([]);
    expect(o.failoverObject).toEqual({ objectName: 'b', objectVersion: '2', objectVersionLabel: '' });
  });

  it('refuses a mapping at the top level', () => {
    const e = thrown(() => parseObjectsYaml('objectName: a\n'));
    expect(e.field).toBe('objects');
    expect(e.message).toBe(
      'Failed to load SecretProviderClass: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []*provider.SecretDescriptor (objects)',
    );
  });

  it('refuses syntax errors with the ASCP prefix', () => {
    const e = thrown(() => parseObjectsYaml('- objectName: [a\n'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/^Failed to load SecretProviderClass: error converting YAML to JSON: yaml: line \d+: /);
  });

  it('refuses a map where a string is expected', () => {
    const e = thrown(() => parseObjectsYaml('- objectName:\n    nested: x\n'));
    expect(e.message).toBe(
      'Failed to load SecretProviderClass: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go struct field SecretDescriptor.objectName of type string (objects)',
    );
  });

  it('reads only the first document, as go-yaml v2 Unmarshal does', () => {
    expect(parseObjectsYaml('- objectName: a\n  objectType: secretsmanager\n---\n')).toEqual([
      expect.objectContaining({ objectName: 'a', objectType: 'secretsmanager' }),
    ]);
    expect(parseObjectsYaml('- objectName: a\n---\n- objectName: b\n- objectName: c\n').map((o) => o?.objectName)).toEqual(['a']);
    // go-yaml stops at the second `---` and never reads what follows, broken or not.
    expect(only('- objectName: a\n---\n- objectName: [b\n').objectName).toBe('a');
  });

  it('still refuses a malformed first document followed by another one', () => {
    const e = thrown(() => parseObjectsYaml('- objectName: [a\n---\n- objectName: b\n'));
    expect(e.message).toMatch(/^Failed to load SecretProviderClass: error converting YAML to JSON: yaml: line \d+: /);
    expect(e.message).not.toMatch(/multiple documents/);
  });

  it('refuses a string where jmesPath expects a list', () => {
    const e = thrown(() => parseObjectsYaml('- objectName: a\n  jmesPath: username\n'));
    expect(e.message).toMatch(/cannot unmarshal string into Go struct field SecretDescriptor.jmesPath/);
  });
});

describe('objects YAML nested too deeply', () => {
  const deep = {
    'block sequences': '- '.repeat(2000) + 'x',
    'flow sequences': '['.repeat(1000) + ']'.repeat(1000),
    'flow maps': '{a: '.repeat(1000) + '1' + '}'.repeat(1000),
    'indented maps': Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' v',
  };

  it.each(Object.entries(deep))('refuses %s naming the field, every time it is asked', (_shape, text) => {
    // Composing such a text overflowed the stack, and the second attempt aborted the process.
    for (let attempt = 0; attempt < 3; attempt++) {
      const error = thrown(() => parseObjectsYaml(text));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.field).toBe('objects');
      expect(error.message).toBe('Failed to load SecretProviderClass: error converting YAML to JSON: yaml: exceeded max depth of 100 (objects)');
    }
  });

  it('reads an object whose ignored field nests exactly to the limit', () => {
    // objects (1) → object (2) → 98 flow sequences = 100.
    expect(only(`- objectName: a\n  extra: ${'['.repeat(98)}${']'.repeat(98)}\n`).objectName).toBe('a');
    expect(() => parseObjectsYaml(`- objectName: a\n  extra: ${'['.repeat(99)}${']'.repeat(99)}\n`)).toThrow(/exceeded max depth of 100/);
  });
});
