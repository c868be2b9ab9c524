import { describe, expect, it } from 'vitest';
import { compileSelector } from './selectors.js';
import type { KubeObject } from './types.js';

const pod = (labels: Record<string, string>, nodeName: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n', labels }, spec: { nodeName } });

describe('selectors', () => {
  it.each([
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app in (db, web)', true],
    ['app notin (web)', false],
    ['tier', false],
    ['!tier', true],
    ['app=web,!tier,env in (prod)', true],
  ])('label selector %s', (selector, expected) => {
    expect(compileSelector({ labelSelector: selector }).matches(pod({ app: 'web', env: 'prod' }, 'n1'))).toBe(expected);
  });

  it('matches field selectors on nested fields, and != on missing ones', () => {
    const p = pod({}, 'node-1');
    expect(compileSelector({ fieldSelector: 'spec.nodeName=node-1,metadata.namespace=n' }).matches(p)).toBe(true);
    expect(compileSelector({ fieldSelector: 'spec.nodeName!=node-1' }).matches(p)).toBe(false);
    expect(compileSelector({ fieldSelector: 'status.phase!=Running' }).matches(p)).toBe(true);
  });

  it('reads field labels as the API server computes them: unset booleans are false, podIP is the first of podIPs', () => {
    const p = pod({}, 'node-1');
    expect(compileSelector({ fieldSelector: 'spec.hostNetwork=false' }).matches(p)).toBe(true);
    expect(compileSelector({ fieldSelector: 'spec.hostNetwork=true' }).matches(p)).toBe(false);
    const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: {} };
    expect(compileSelector({ fieldSelector: 'spec.unschedulable=false' }).matches(node)).toBe(true);
    const dualStack: KubeObject = { ...p, status: { podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }] } };
    expect(compileSelector({ fieldSelector: 'status.podIP=10.0.0.1' }).matches(dualStack)).toBe(true);
  });

  it('rejects a selector it cannot parse with BadRequest', () => {
    expect(() => compileSelector({ labelSelector: 'a b' })).toThrow(expect.objectContaining({ reason: 'BadRequest' }));
  });
});

describe('label selectors as labels.Parse takes them', () => {
  const ranked = (rank: string): KubeObject => pod({ rank }, 'n1');

  it('compares > and < numerically, never matching a non-numeric value', () => {
    expect(compileSelector({ labelSelector: 'rank>1' }).matches(ranked('10'))).toBe(true);
    expect(compileSelector({ labelSelector: 'rank>1' }).matches(ranked('1'))).toBe(false);
    expect(compileSelector({ labelSelector: 'rank<5' }).matches(ranked('-3'))).toBe(true);
    expect(compileSelector({ labelSelector: 'rank>1' }).matches(ranked('x'))).toBe(false);
  });

  it('takes `notin ()` as the empty value', () => {
    expect(compileSelector({ labelSelector: 'env notin ()' }).matches(pod({ env: 'prod' }, 'n1'))).toBe(true);
    expect(compileSelector({ labelSelector: 'env notin ()' }).matches(pod({ env: '' }, 'n1'))).toBe(false);
  });

  it.each([
    ['env=a=b', "found '=', expected: ',' or 'end of string'"],
    ['rank>x', "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"],
    ['env in a', "unable to parse requirement: found 'a' expected: '('"],
    ['=x', "found '=', expected: !, identifier, or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
  ])('refuses %s with the API server message', (selector, message) => {
    expect(() => compileSelector({ labelSelector: selector })).toThrow(expect.objectContaining({ reason: 'BadRequest', message }));
  });
});
