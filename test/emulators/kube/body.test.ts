/** Request bodies the kube emulator cannot read are a 400 (BadRequest), and never take the emulator down. */
import { describe, expect, it } from 'vitest';
import { parseBody } from '../../../src/emulators/kube/body.js';

describe('kube emulator request bodies', () => {
  it('reads an apply-patch YAML body', () => {
    expect(parseBody(Buffer.from('metadata:\n  name: a\n'), 'application/apply-patch+yaml')).toEqual({ metadata: { name: 'a' } });
  });

  it('answers 400 to YAML nested too deeply, every time', () => {
    // Composing it overflowed the stack, and a second such body aborted the process.
    const body = Buffer.from('['.repeat(3000) + ']'.repeat(3000));
    for (let attempt = 0; attempt < 3; attempt++) {
      let caught: unknown;
      try {
        parseBody(body, 'application/apply-patch+yaml');
      } catch (e) {
        caught = e;
      }
      expect(caught).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'BadRequest', message: 'the request body could not be decoded: yaml: exceeded max depth of 100' });
    }
  });
});
