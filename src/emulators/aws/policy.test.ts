import { describe, expect, it } from 'vitest';
import { globMatch, PolicyRegistry } from './policy.js';

describe('globMatch', () => {
  it('matches IAM-style wildcards across slashes and escapes regex characters', () => {
    expect(globMatch('shop/*', 'shop/a/b')).toBe(true);
    expect(globMatch('shop/*', 'shopx')).toBe(false);
    expect(globMatch('a.b', 'axb')).toBe(false);
    expect(globMatch('arn:aws:secretsmanager:*:*:secret:db-??????', 'arn:aws:secretsmanager:us-east-1:1:secret:db-AbC123')).toBe(true);
  });
});

describe('PolicyRegistry', () => {
  it('lets parameter globs name hierarchical parameters with or without the leading slash', () => {
    const policy = new PolicyRegistry();
    const roleArn = 'arn:aws:iam::1:role/r';
    policy.addRole({ roleArn, trust: [], allow: { parameters: ['app/*'] } });
    const principal = { kind: 'role' as const, roleArn, subject: 's', sessionName: 'x', accountId: '1' };
    expect(policy.canReadParameter(principal, '/app/x')).toBe(true);
    expect(policy.canReadParameter(principal, '/other/x')).toBe(false);
    expect(policy.canBatchGetSecretValue(principal)).toBe(false);
  });
});
