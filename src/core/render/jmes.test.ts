import { describe, expect, it } from 'vitest';
import { extractJmes } from './jmes.js';
import { thrown } from '../../../test/support/thrown.js';

const enc = new TextEncoder();

/** The file one jmesPath entry renders from `secret`. */
function render(secret: string, path: string): string {
  const [out] = extractJmes({ objectIndex: 0, objectName: 's', value: enc.encode(secret), entries: [{ path, objectAlias: 'out', filePermission: '' }] });
  return out!;
}

/** The error message one jmesPath entry ends with. */
function failure(secret: string, path: string): string {
  return thrown(() => render(secret, path)).message;
}

const ENVS = '{"prod":{"password":"p"},"dev":{"password":"d"},"empty":{},"s":"x"}';
const MISSING = 'does not point to a valid object';

// Expected values are go-jmespath 0.4.0's (ASCP's): a non-empty object is true, an empty one false.
describe('jmesPath truthiness of objects, as go-jmespath', () => {
  it.each([
    ['(prod || dev).password', 'p'],
    ['(empty || dev).password', 'd'],
    ['(missing || dev).password', 'd'],
    ['prod && s', 'x'],
    ['to_string(empty && s)', '{}'],
    ['to_string(!prod)', 'false'],
    ['to_string(!empty)', 'true'],
    ['[prod][?@].password | [0]', 'p'],
    ['[empty, dev, prod][?@].password | [0]', 'd'],
    ['to_string(length([empty][?@]))', '0'],
    ['join(`,`, [prod, dev, empty][?!!@].password)', 'p,d'],
  ])('%s renders %j', (path, expected) => {
    expect(render(ENVS, path)).toBe(expected);
  });

  it('filters an array of objects on a field holding an object', () => {
    const secret = '{"users":[{"name":"a","meta":{}},{"name":"b","meta":{"admin":true}}]}';
    expect(render(secret, 'users[?meta].name | [0]')).toBe('b');
  });
});

describe('keys named like JavaScript object members are data, or absent', () => {
  const MEMBERS = '{"hasOwnProperty":"h","constructor":"c","toString":"t","__proto__":{"x":"px"}}';

  it.each([
    ['hasOwnProperty', 'h'],
    ['constructor', 'c'],
    ['toString', 't'],
    ['__proto__.x', 'px'],
    ['[@][?@].hasOwnProperty | [0]', 'h'],
    ['to_string(!@)', 'false'],
    ['[@][?hasOwnProperty].constructor | [0]', 'c'],
    ['join(`,`, keys(@))', '__proto__,constructor,hasOwnProperty,toString'],
  ])('%s renders %j', (path, expected) => {
    expect(render(MEMBERS, path)).toBe(expected);
  });

  it.each(['toString', 'hasOwnProperty', '__proto__', 'merge(@).constructor', '`{}`.constructor', '{a: s}.toString', 'prod.valueOf'])(
    '%s is a missing key when the secret has none',
    (path) => {
      expect(failure(ENVS, path)).toContain(MISSING);
    },
  );
});

describe('objects built by an expression', () => {
  const PROTO = '{"a":{"__proto__":{"x":"1"},"k":"v"},"b":{"__proto__":{"x":"1"},"k":"v"},"c":{"__proto__":{"x":"2"},"k":"v"}}';

  it('merge keeps a __proto__ key as data and never as a prototype', () => {
    expect(render(PROTO, 'join(`,`, keys(merge(a)))')).toBe('__proto__,k');
    expect(render(PROTO, 'merge(a, c).__proto__.x')).toBe('2');
    expect(failure(PROTO, 'merge(a).x')).toContain(MISSING);
  });

  it('merge lets later objects win and lists keys in Go order', () => {
    expect(render('{"a":{"z":"1","x":"1"},"b":{"y":"2","x":"2"}}', 'to_string(merge(a, b))')).toBe('{"x":"2","y":"2","z":"1"}');
  });

  it('== and != compare objects by content, __proto__ keys included', () => {
    expect(render(PROTO, 'to_string(a == b)')).toBe('true');
    expect(render(PROTO, 'to_string(a != b)')).toBe('false');
    expect(render(PROTO, 'to_string(a == c)')).toBe('false');
    expect(render(PROTO, 'to_string(a == merge(b))')).toBe('true');
    expect(render(PROTO, 'to_string(a.__proto__ == `{"x":"1"}`)')).toBe('true');
    expect(render(PROTO, 'to_string(a.__proto__ == `{"x":"1","y":null}`)')).toBe('false');
  });

  it('a multi-select hash keeps a __proto__ key and lists keys in Go order', () => {
    expect(render(ENVS, 'to_string({__proto__: s, b: s, a: s})')).toBe('{"__proto__":"x","a":"x","b":"x"}');
  });
});

// Where jmespath.js disagreed with go-jmespath 0.4.0 (ASCP's), Go's answer is expected.
describe('ordering and prefixes, as go-jmespath', () => {
  const DATA =
    '{"n":[10,9,100,-1],"s":["b","a","é","Z"],"people":[{"name":"bo","age":10},{"name":"al","age":9},{"name":"cy","age":100}],"word":"abab","lone":[{"name":"only"}],"emoji":"é😀"}';

  it.each([
    ['to_string(sort(n))', '[-1,9,10,100]'],
    ['to_string(sort(s))', '["Z","a","b","é"]'],
    ['to_string(max(n))', '100'],
    ['min(s)', 'Z'],
    ['max(s)', 'é'],
    ['max_by(people, &age).name', 'cy'],
    ['min_by(people, &age).name', 'al'],
    ['max_by(people, &name).name', 'cy'],
    ['min_by(people, &name).name', 'al'],
    ['join(`,`, sort_by(people, &age)[*].name)', 'al,bo,cy'],
    ['to_string(starts_with(word, `"ab"`))', 'true'],
    ['to_string(starts_with(word, `"ba"`))', 'false'],
    ['to_string(`"b"` > `"a"`)', 'null'],
    ['to_string(people[0].age > `9`)', 'true'],
    ['max_by(lone, &age).name', 'only'],
    ['min_by(lone, &age).name', 'only'],
    ['sort_by(lone, &age)[0].name', 'only'],
    ["to_string(contains('a1b', `1`))", 'false'],
    ["to_string(contains('a1b', '1'))", 'true'],
    ['to_string(length(emoji))', '2'],
    ['reverse(emoji)', '😀é'],
    ["to_string(to_number(''))", 'null'],
    ["to_string(to_number(' 1'))", 'null'],
    ["to_string(to_number('1.5e1'))", '15'],
  ])('%s renders %j', (path, expected) => {
    expect(render(DATA, path)).toBe(expected);
  });

  it('max_by of an empty array is null, and mixed key types are refused', () => {
    expect(failure('{"p":[]}', 'max_by(p, &a)')).toContain(MISSING);
    expect(failure('{"p":[{"a":1},{"a":"x"}]}', 'max_by(p, &a)')).toContain('Invalid JMES Path');
  });
});
