/** Runs `fn` and returns the SecretletError it throws; anything else (or no throw) fails the test. */
import { SecretletError } from '../../src/core/errors.js';

export function thrown(fn: () => unknown): SecretletError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SecretletError) return e;
    throw e;
  }
  throw new Error('expected a SecretletError');
}
