import { describe, expect, it } from 'vitest';
import { SecretletError } from '../errors.js';
import { validateObjects } from './validate-objects.js';
import type { ValidateObjectsOptions } from './validate-objects.js';
import { ValidatedObjectsMemo } from './validated-objects-memo.js';

const objects = (name: string): string => `- objectName: "${name}"\n  objectType: "secretsmanager"\n  jmesPath:\n    - path: username\n      objectAlias: user\n`;
const opts = (text: string, primary = 'us-east-1'): ValidateObjectsOptions => ({
  objectsText: text,
  pathTranslation: { kind: 'replace', char: '_' },
  regions: { primary, failover: undefined },
});

describe('ValidatedObjectsMemo', () => {
  it('returns what validation returns, and the same frozen result for the same class', () => {
    const memo = new ValidatedObjectsMemo();
    const first = memo.validate(opts(objects('app/db')));
    expect(first).toEqual(validateObjects(opts(objects('app/db'))));
    expect(memo.validate(opts(objects('app/db')))).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first[0]?.jmesPath[0])).toBe(true);
  });

  it('validates again when the regions differ (ARN objects must name the primary region)', () => {
    const memo = new ValidatedObjectsMemo();
    const arn = objects('arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf');
    expect(memo.validate(opts(arn, 'us-east-1'))).toHaveLength(1);
    expect(() => memo.validate(opts(arn, 'eu-west-1'))).toThrow(SecretletError);
  });

  it('does not remember failures: a bad class fails every time with its error', () => {
    const memo = new ValidatedObjectsMemo();
    const bad = '- objectName: x\n  objectType: nosuchtype\n';
    expect(() => memo.validate(opts(bad))).toThrow(/objectType/);
    expect(() => memo.validate(opts(bad))).toThrow(/objectType/);
    expect(memo.size).toBe(0);
  });

  it('keeps at most `limit` classes, evicting the least recently used', () => {
    const memo = new ValidatedObjectsMemo(2);
    const a = memo.validate(opts(objects('a')));
    memo.validate(opts(objects('b')));
    memo.validate(opts(objects('a'))); // a is now the most recent
    memo.validate(opts(objects('c'))); // evicts b
    expect(memo.size).toBe(2);
    expect(memo.validate(opts(objects('a')))).toBe(a);
  });
});
