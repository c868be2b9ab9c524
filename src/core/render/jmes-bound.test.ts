import { search } from 'jmespath';
import { describe, expect, it, vi } from 'vitest';
import { JMES_MAX_BYTES, jmesBound } from './jmes-bound.js';
import type { JmesAstNode } from './jmes-bound.js';

/** How many times the bound looked at an AST node, counted through the AST `compile` hands it. */
const visits = vi.hoisted(() => ({ count: 0 }));
vi.mock('jmespath', async (importOriginal) => {
  const original = await importOriginal<{ compile: (e: string) => JmesAstNode }>();
  // One proxy per node, so a node keeps its identity however often it is reached.
  const proxies = new WeakMap<JmesAstNode, JmesAstNode>();
  const counted = (node: JmesAstNode): JmesAstNode => {
    let proxy = proxies.get(node);
    if (proxy === undefined) {
      const children = node.children?.map((c) => (c !== null && typeof c === 'object' ? counted(c) : c));
      proxy = new Proxy(node, {
        get(target, key, receiver) {
          if (key === 'type') visits.count += 1;
          return key === 'children' ? children : (Reflect.get(target, key, receiver) as unknown);
        },
      });
      proxies.set(node, proxy);
    }
    return proxy;
  };
  return { ...original, compile: (expression: string) => counted(original.compile(expression)) };
});

function visitsFor(expression: string): number {
  visits.count = 0;
  jmesBound(expression, 100);
  return visits.count;
}

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

  it.each([
    ['map', (d: number) => `${'map(&'.repeat(d)}a${', @)'.repeat(d)}`],
    ['projection', (d: number) => `a${'[*].b'.repeat(d)}`],
    ['value projection', (d: number) => `${'*.'.repeat(d)}a`],
  ])('bounds a %s nested 40 deep in polynomial steps, not 2^depth', (_shape, expression) => {
    // From 5 to 15 levels a bound doubling its work per level does 2^10 times more; this one ~9 times.
    expect(visitsFor(expression(15)) / visitsFor(expression(5))).toBeLessThan(30);
    // Nesting alone does not grow a value: the expression stays under the limit, evaluated, not refused.
    const deep = jmesBound(expression(40), 100);
    expect(deep).toBeGreaterThan(jmesBound(expression(1), 100));
    expect(deep).toBeLessThan(JMES_MAX_BYTES);
  });
});
