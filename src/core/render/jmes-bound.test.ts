import { search } from 'jmespath';
import { describe, expect, it } from 'vitest';
import { JMES_MAX_BYTES, jmesBound } from './jmes-bound.js';

const SECRET = JSON.stringify({
  username: 'admin',
  password: 'p\u0001ss<&>',
  port: 5432,
  hosts: [{ name: 'a', tags: ['x', 'y'] }, { name: 'b', tags: ['z'] }],
  nested: { k: 'v', deeper: { list: [1, 2, 3] } },
});

describe('jmesBound', () => {
  it.each([
    'username',
    'nested.deeper.list[0]',
    'hosts[*].name',
    'hosts[].tags[]',
    'hosts[?name == `a`].tags',
    'nested.*',
    'to_string(@)',
    'to_string(nested)',
    'join(`, `, hosts[*].name)',
    'join(username, [password, password, password])',
    '[@, @] | [@, @] | to_string(@)',
    '{u: username, p: password, both: [username, password]}',
    'map(&[name, name], hosts)',
    'sort_by(hosts, &name)[0].name',
    'length(to_string([@, @]))',
    'username || password',
    'keys(@)',
    'merge(nested, {x: username})',
  ])('is never below what %s builds from the secret', (expression) => {
    const data = JSON.parse(SECRET) as unknown;
    const actual = JSON.stringify(search(data, expression) ?? null).length;
    const bound = jmesBound(expression, SECRET.length);
    expect(bound).toBeGreaterThanOrEqual(actual);
    expect(bound).toBeLessThan(JMES_MAX_BYTES);
  });

  it('puts a doubling chain under to_string far past the limit, without evaluating it', () => {
    const doubling = `to_string([@,@]${' | [@,@]'.repeat(19)})`;
    expect(jmesBound(doubling, 1000)).toBeGreaterThan(2 ** 20 * 1000);
    expect(jmesBound(`[to_string(@)]${' | [join(`,`, @), join(`,`, @)]'.repeat(20)} | join(\`,\`, @)`, 1000)).toBeGreaterThan(JMES_MAX_BYTES);
    expect(jmesBound(`map(&[@,@,@,@], [@])${' | map(&[@,@,@,@], @)'.repeat(12)}`, 100)).toBeGreaterThan(JMES_MAX_BYTES);
  });
});
