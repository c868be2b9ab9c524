import { describe, expect, it } from 'vitest';
import { parseAttributes } from './attributes.js';
import { parsePathTranslation, parsePermission, parsePreferredAddressType, parseUsePodIdentity, resolveRegions } from './parameters.js';
import { thrown } from '../../../test/support/thrown.js';


describe('parseAttributes', () => {
  it('decodes a string map and treats null as empty', () => {
    expect(parseAttributes('{"objects":"- a","region":"us-east-1"}')).toEqual({ objects: '- a', region: 'us-east-1' });
    expect(parseAttributes('null')).toEqual({});
  });

  it('keeps __proto__ as an ordinary key', () => {
    const attrs = parseAttributes('{"__proto__":"x"}');
    expect(Object.getPrototypeOf(attrs)).toBe(Object.prototype);
    expect(Object.hasOwn(attrs, '__proto__')).toBe(true);
  });

  it.each([
    ['', 'failed to unmarshal attributes, error: unexpected end of JSON input'],
    ['{"a":1}', 'failed to unmarshal attributes, error: json: cannot unmarshal number into Go value of type string'],
    ['[]', 'failed to unmarshal attributes, error: json: cannot unmarshal array into Go value of type map[string]string'],
  ])('rejects %j', (input, message) => {
    const e = thrown(() => parseAttributes(input));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.field).toBe('attributes');
    expect(e.message).toBe(message);
  });

  it('never echoes the attributes in a syntax error', () => {
    const e = thrown(() => parseAttributes('{"csi.storage.k8s.io/serviceAccount.tokens":"SECRET-TOKEN" oops}'));
    expect(e.message).toMatch(/^failed to unmarshal attributes, error: /);
    expect(e.message).not.toContain('SECRET-TOKEN');
  });
});

describe('pathTranslation', () => {
  it('defaults to _ and turns off with false in any case', () => {
    expect(parsePathTranslation('')).toEqual({ kind: 'replace', char: '_' });
    for (const off of ['false', 'False', 'FALSE', 'fAlSe']) expect(parsePathTranslation(off)).toEqual({ kind: 'none' });
    expect(parsePathTranslation('-')).toEqual({ kind: 'replace', char: '-' });
  });

  it.each(['ab', 'ä', 'true'])('rejects %j: more than one byte', (value) => {
    const e = thrown(() => parsePathTranslation(value));
    expect(e.field).toBe('pathTranslation');
    expect(e.message).toBe("pathTranslation must be either 'False' or a single character string");
  });

  it('accepts "/", as ASCP does (names keep their slashes; validate-objects refuses one left absolute)', () => {
    expect(parsePathTranslation('/')).toEqual({ kind: 'replace', char: '/' });
  });
});

describe('usePodIdentity', () => {
  it('accepts the Go ParseBool set', () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseUsePodIdentity(t)).toBe('podIdentity');
    for (const f of ['', '0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseUsePodIdentity(f)).toBe('irsa');
  });

  it('rejects other words with the ParseBool wording', () => {
    const e = thrown(() => parseUsePodIdentity('yes'));
    expect(e.field).toBe('usePodIdentity');
    expect(e.message).toBe('failed to parse usePodIdentity value, error: strconv.ParseBool: parsing "yes": invalid syntax');
  });
});

describe('preferredAddressType', () => {
  it('is case-insensitive and falls back to auto', () => {
    expect(parsePreferredAddressType('IPv6')).toBe('ipv6');
    expect(parsePreferredAddressType('ipv4')).toBe('ipv4');
    expect(parsePreferredAddressType('dual')).toBe('auto');
    expect(parsePreferredAddressType('')).toBe('auto');
  });
});

describe('regions', () => {
  it('puts the primary first and refuses a failover equal to it', () => {
    expect(resolveRegions('us-east-1', '')).toEqual(['us-east-1']);
    expect(resolveRegions('us-east-1', 'us-west-2')).toEqual(['us-east-1', 'us-west-2']);
    const e = thrown(() => resolveRegions('us-east-1', 'us-east-1'));
    expect(e.field).toBe('failoverRegion');
    expect(e.message).toBe('us-east-1: failover region cannot be the same as the primary region');
  });

  // Each of these used to reach the AWS SDK and fail there as INTERNAL.
  const MALFORMED = ['us east 1', 'x/y', 'us-east-1.evil.com', 'us-east-1\uFFFD', '-us-east-1', 'us-east-1-', 'a'.repeat(64), '*', 'fips--a'];

  it.each(MALFORMED)('refuses the primary region %j as INVALID_ARGUMENT naming region', (region) => {
    const e = thrown(() => resolveRegions(region, ''));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.field).toBe('region');
    expect(e.message).toContain('region is not a valid AWS region name');
  });

  it.each(MALFORMED)('refuses the failover region %j as INVALID_ARGUMENT naming failoverRegion', (region) => {
    const e = thrown(() => resolveRegions('us-east-1', region));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.field).toBe('failoverRegion');
  });

  it('quotes the value, so control characters stay escaped in the message', () => {
    expect(thrown(() => resolveRegions('us\neast', '')).message).toBe('"us\\neast": region is not a valid AWS region name (letters, digits and hyphens)');
  });

  it.each(['us-gov-west-1', 'cn-north-1', 'eu-isoe-west-1', 'us-isob-east-1', 'mx-central-1', 'fips-us-east-1', 'us-east-1-fips', 'fips-aws-global', 'US-EAST-1', 'a'.repeat(63)])(
    'accepts %j, as the AWS SDK does (no region list)',
    (region) => {
      expect(resolveRegions(region, '')).toEqual([region]);
      expect(resolveRegions('us-east-1', region)).toEqual(['us-east-1', region]);
    },
  );
});

describe('permission', () => {
  it('decodes a JSON unsigned integer', () => {
    expect(parsePermission('420')).toBe(420);
    expect(parsePermission(' 384 ')).toBe(384);
  });

  it.each([
    ['', 'failed to unmarshal file permission, error: unexpected end of JSON input'],
    ['"420"', 'failed to unmarshal file permission, error: json: cannot unmarshal string into Go value of type fs.FileMode'],
    ['-1', 'failed to unmarshal file permission, error: json: cannot unmarshal number -1 into Go value of type fs.FileMode'],
    ['4.5', 'failed to unmarshal file permission, error: json: cannot unmarshal number 4.5 into Go value of type fs.FileMode'],
    ['4294967296', 'failed to unmarshal file permission, error: json: cannot unmarshal number 4294967296 into Go value of type fs.FileMode'],
  ])('rejects %j', (input, message) => {
    const e = thrown(() => parsePermission(input));
    expect(e.field).toBe('permission');
    expect(e.message).toBe(message);
  });
});
