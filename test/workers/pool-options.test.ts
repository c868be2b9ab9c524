import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { compileAgentOptions, defaultPoolSize } from '../../src/config/agent-options.js';

describe('worker pool and fetch strategy options', () => {
  it('defaults to the secretlet strategy, a pool sized for the node and a queue bound of 1024', () => {
    expect(compileAgentOptions({ mode: 'provider' })).toMatchObject({ fetchStrategy: 'secretlet', poolSize: defaultPoolSize(availableParallelism()), poolMaxQueue: 1024 });
  });

  it('keeps the work inline on nodes with two cores or fewer and uses two threads above that', () => {
    expect([1, 2, 3, 4, 64].map(defaultPoolSize)).toEqual([0, 0, 2, 2, 2]);
  });

  it.each([
    [{ fetchStrategy: 'ascp' as never }, 'fetchStrategy'],
    [{ poolMaxQueue: 0 }, 'poolMaxQueue'],
    [{ poolSize: -1 }, 'poolSize'],
  ])('rejects %j naming the option', (bad, field) => {
    expect(() => compileAgentOptions({ mode: 'provider', ...bad })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field }));
  });
});
