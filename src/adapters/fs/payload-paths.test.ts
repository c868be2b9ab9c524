import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretletError } from '../../core/errors.js';
import { entryPath, normalizedTarget, validateFlatFileName, validatePayload, validatePayloadPath } from './payload-paths.js';

function rejection(run: () => void): SecretletError {
  try {
    run();
  } catch (err) {
    if (err instanceof SecretletError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('validatePayloadPath (kubelet atomic writer rules)', () => {
  it.each([
    ['', 'must not be empty'],
    ['/etc/passwd', 'must be relative'],
    ['a/../b', "must not contain '..'"],
    ['..', "must not contain '..'"],
    ['..data', "must not start with '..'"],
    ['..2026_01_01_00_00_00.1/x', "must not start with '..'"],
    ['..x/y', "must not start with '..'"],
    ['foo////bar', 'clean form'],
    ['a//b', 'clean form'],
    ['./a', 'clean form'],
    ['a/', 'clean form'],
    ['a/./b', 'clean form'],
    ['x'.repeat(256), 'element longer than 255 bytes'],
    ['é'.repeat(128), 'element longer than 255 bytes'],
    [Array.from({ length: 20 }, () => 'd'.repeat(250)).join('/'), 'longer than 4096 bytes'],
    ['a\0b', 'NUL'],
  ])('rejects %j (%s) as INVALID_ARGUMENT naming the path', (path, why) => {
    const err = rejection(() => validatePayloadPath(path, 'files[3].path'));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.reason).toBe('InvalidFilePath');
    expect(err.field).toBe('files[3].path');
    expect(err.message).toContain(JSON.stringify(path));
    expect(err.message).toContain(why);
  });

  it.each(['a', '.hidden', 'a..b', 'dir/..hidden-below-top', 'back\\slash', 'x'.repeat(255), 'a/b/c'])(
    'accepts %j',
    (path) => {
      expect(() => validatePayloadPath(path, 'f')).not.toThrow();
    },
  );
});

describe('validatePayload', () => {
  const file = (path: string) => ({ path, mode: 0o644, contents: new Uint8Array() });

  it('rejects a path given twice, naming the second occurrence', () => {
    const err = rejection(() => validatePayload([file('a'), file('b'), file('a')]));
    expect(err.field).toBe('files[2].path');
    expect(err.message).toContain('more than once');
  });

  it('rejects a file that is also the parent directory of another file', () => {
    const err = rejection(() => validatePayload([file('dir/x'), file('dir')]));
    expect(err.field).toBe('files[0].path');
    expect(err.message).toContain('"dir" is also a file');
  });

  it('names the first bad path of the payload', () => {
    const err = rejection(() => validatePayload([file('ok'), file('/abs'), file('..data')]));
    expect(err.field).toBe('files[1].path');
  });
});

describe('validateFlatFileName (ASCP provider-writes mode)', () => {
  it.each([
    ['dir/file', 'pattern contains path separator'],
    ['', 'must not be empty'],
    ['.', 'is not a file name'],
    ['..', 'is not a file name'],
    ['n'.repeat(256), 'longer than 255 bytes'],
  ])('rejects %j', (name, why) => {
    const err = rejection(() => validateFlatFileName(name, 'files[0].path'));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(why);
  });

  it('accepts names ASCP accepts, dots and backslashes included', () => {
    for (const name of ['secret', '.env', 'my..secret', 'a\\b', '..odd']) {
      expect(() => validateFlatFileName(name, 'f')).not.toThrow();
    }
  });
});

describe('entryPath', () => {
  it('is what path.join gives for a normalized target and a validated name', () => {
    const targets = ['/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/secrets/mount', '/', '/a/./b/../c/', '//x//y/', 'rel/dir'];
    const names = ['db-password', '..data', '..2026_12_07_01_02_03.000000001', 'dir/nested/file', '..secretlet-tmp.1234'];
    for (const t of targets) {
      const dir = normalizedTarget(t);
      for (const n of names) expect(entryPath(dir, n)).toBe(join(t, n));
    }
  });
});
