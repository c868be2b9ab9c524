import { describe, expect, it } from 'vitest';
import { compileAgentOptions } from '../../src/config/agent-options.js';

describe('worker pool and fetch strategy options', () => {
  it('defaults to the secretlet strategy, a pool of 2 and a queue bound of 1024', () => {
    expect(compileAgentOptions({ mode: 'provider' })).toMatchObject({ fetchStrategy: 'secretlet', poolSize: 2, poolMaxQueue: 1024 });
  });

  it.each([
    [{ fetchStrategy: 'ascp' as never }, 'fetchStrategy'],
    [{ poolMaxQueue: 0 }, 'poolMaxQueue'],
    [{ poolSize: -1 }, 'poolSize'],
  ])('rejects %j naming the option', (bad, field) => {
    expect(() => compileAgentOptions({ mode: 'provider', ...bad })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field }));
  });
});
