import { describe, expect, it } from 'vitest';
import { compileManifestOptions } from './manifest-options.js';

const compile = (rotationInterval: string) => compileManifestOptions({ rotationInterval }, () => '/deploy');

describe('compileManifestOptions rotationInterval', () => {
  it.each(['1m30s', '2m0s', '1h0m0s', '1.5h', '300ms', '90', '0'])("takes Go's duration %s, as the agent does", (value) => {
    expect(compile(value).rotationInterval).toBe(value);
  });

  it.each([
    ['1x', 'must be a duration'],
    ['m', 'must be a duration'],
    ['-1s', 'must not be negative'],
  ])('refuses %s naming the option', (value, problem) => {
    expect(() => compile(value)).toThrow(`options.rotationInterval ${problem}`);
    expect(() => compile(value)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'rotationInterval' }) as Error);
  });
});
