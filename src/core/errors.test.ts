import { describe, expect, it } from 'vitest';
import { SecretletError, toPlainError } from './errors.js';

class NarrowError extends SecretletError {}

describe('SecretletError instance checks', () => {
  const plain = new SecretletError({ code: 'INTERNAL', reason: 'Internal', message: 'boom' });

  it('recognises an error built in another realm by its marker, not its prototype', () => {
    const foreign = Object.setPrototypeOf(new SecretletError({ code: 'INTERNAL', reason: 'Internal', message: 'x' }), Error.prototype) as unknown;
    expect(foreign instanceof SecretletError).toBe(true);
    expect(new Error('x') instanceof SecretletError).toBe(false);
    expect(toPlainError(plain)).toMatchObject({ code: 'INTERNAL', reason: 'Internal' });
  });

  it('keeps a subclass check to instances of that subclass', () => {
    const narrow = new NarrowError({ code: 'INTERNAL', reason: 'Internal', message: 'boom' });
    expect(narrow instanceof SecretletError).toBe(true);
    expect(narrow instanceof NarrowError).toBe(true);
    expect(plain instanceof NarrowError).toBe(false);
  });
});
