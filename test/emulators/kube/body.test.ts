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

  it('answers 400 to JSON nested past 1,000 levels, and takes 1,000', () => {
    // Past about 2,000 levels the emulator's recursive code overflowed the stack: a 500.
    const nested = (depth: number): Buffer => Buffer.from('['.repeat(depth) + ']'.repeat(depth));
    expect(() => parseBody(nested(1001), 'application/json')).toThrow(
      expect.objectContaining({ reason: 'BadRequest', message: 'the request body could not be decoded: json: exceeded max depth of 1000' }),
    );
    expect(() => parseBody(nested(100_000), 'application/merge-patch+json')).toThrow(expect.objectContaining({ reason: 'BadRequest' }));
    expect(parseBody(nested(1000), 'application/json')).toBeDefined();
  });

  it('counts no bracket inside a string, whatever the escapes around it', () => {
    const text = JSON.stringify({ a: '\\', b: '"' + '['.repeat(3000), c: '{'.repeat(3000) + '\\"' });
    expect(parseBody(Buffer.from(text), 'application/json')).toEqual(JSON.parse(text));
    // An escaped quote does not end a string early, nor does a string hide real nesting after it.
    const deepAfter = `${text.slice(0, -1)},"d":${'['.repeat(1001)}${']'.repeat(1001)}}`;
    expect(() => parseBody(Buffer.from(deepAfter), 'application/json')).toThrow(expect.objectContaining({ reason: 'BadRequest' }));
  });
});
