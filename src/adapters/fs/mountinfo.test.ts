import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeOctal, listsMountPoint, parseMountPoints, unescapeOctal } from './mountinfo.js';

const SAMPLE = [
  '22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '98 22 0:51 / /var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/my\\040vol/mount rw,relatime shared:50 - tmpfs tmpfs rw,size=1024k,mode=750',
  '99 22 0:52 / /tmp/tab\\011and\\134backslash rw - tmpfs tmpfs rw',
  '',
].join('\n');

describe('parseMountPoints', () => {
  it('returns field 5 of every line with octal escapes decoded', () => {
    expect(parseMountPoints(SAMPLE)).toEqual([
      '/',
      '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/my vol/mount',
      '/tmp/tab\tand\\backslash',
    ]);
  });

  it('decodes newline escapes and leaves other backslashes alone', () => {
    expect(unescapeOctal('a\\012b\\x')).toBe('a\nb\\x');
  });
});

describe('escapeOctal', () => {
  it('escapes exactly what the kernel escapes: space, tab, newline and backslash', () => {
    expect(escapeOctal('/a b\tc\nd\\e~f#g')).toBe('/a\\040b\\011c\\012d\\134e~f#g');
  });

  it('is undone by unescapeOctal', () => {
    fc.assert(fc.property(fc.string(), (s) => unescapeOctal(escapeOctal(s)) === s));
  });
});

/** A mountinfo line with `root` as field 4 and `point` as field 5, both raw (already escaped). */
function line(id: number, root: string, point: string, source = 'tmpfs'): string {
  return `${id} 22 0:${id} ${root} ${point} rw,relatime shared:${id} - tmpfs ${source} rw,size=1024k`;
}

describe('listsMountPoint', () => {
  it('finds mount points whose paths are escaped in mountinfo', () => {
    expect(listsMountPoint(SAMPLE, '/')).toBe(true);
    expect(listsMountPoint(SAMPLE, '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/my vol/mount')).toBe(true);
    expect(listsMountPoint(SAMPLE, '/tmp/tab\tand\\backslash')).toBe(true);
  });

  it('does not match the escape text taken literally', () => {
    expect(listsMountPoint(SAMPLE, '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/my\\040vol/mount')).toBe(false);
    expect(listsMountPoint(SAMPLE, '/tmp/tab\\011and\\134backslash')).toBe(false);
  });

  it('does not take a mount root (field 4) or a mount source for a mount point', () => {
    const text = [line(1, '/', '/'), line(2, '/data/vol', '/mnt/x', '/srv/src')].join('\n');
    expect(listsMountPoint(text, '/data/vol')).toBe(false);
    expect(listsMountPoint(text, '/srv/src')).toBe(false);
    expect(listsMountPoint(text, '/mnt/x')).toBe(true);
  });

  it('finds a path that is field 4 on one line and field 5 on a later one (a bind mount)', () => {
    const text = [line(1, '/', '/'), line(2, '/a/b', '/c'), line(3, '/', '/a/b')].join('\n');
    expect(listsMountPoint(text, '/a/b')).toBe(true);
  });

  it('matches whole paths only: /a/b is not /a/bc, /a/b/c or /x/a/b', () => {
    const text = [line(1, '/', '/a/bc'), line(2, '/', '/a/b/c'), line(3, '/', '/x/a/b')].join('\n');
    for (const missing of ['/a/b', '/a', '/a/b/', 'a/b']) expect(listsMountPoint(text, missing)).toBe(false);
    expect(listsMountPoint(text, '/a/bc')).toBe(true);
  });

  it('finds a mount point on the first and on the last line, with or without a final newline', () => {
    const text = [line(1, '/', '/first'), line(2, '/', '/middle'), line(3, '/', '/last')].join('\n');
    for (const t of [text, `${text}\n`]) {
      expect(listsMountPoint(t, '/first')).toBe(true);
      expect(listsMountPoint(t, '/last')).toBe(true);
    }
    expect(listsMountPoint('', '/')).toBe(false);
  });

  it('gives the same answer as parsing every line', () => {
    const segment = fc.constantFrom('a', 'b', 'a b', 'x\ty', 'n\nl', 'b\\s', 'mount', '040', '\\040');
    const path = fc.array(segment, { minLength: 0, maxLength: 3 }).map((parts) => `/${parts.join('/')}`);
    fc.assert(
      fc.property(fc.array(fc.tuple(path, path), { maxLength: 8 }), path, (mounts, probe) => {
        const text = mounts.map(([root, point], i) => line(i + 1, escapeOctal(root), escapeOctal(point))).join('\n');
        return listsMountPoint(text, probe) === parseMountPoints(text).includes(probe);
      }),
      { numRuns: 500 },
    );
  });
});
