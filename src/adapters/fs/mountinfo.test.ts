import { describe, expect, it } from 'vitest';
import { parseMountPoints, unescapeOctal } from './mountinfo.js';

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
