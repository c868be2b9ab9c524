import { describe, expect, it } from 'vitest';
import { targetPathProblem } from './target-path.js';

const kubeletPath = '/var/lib/kubelet/pods/0d3b6c4e-1f2a-4b5c-8d9e-0a1b2c3d4e5f/volumes/kubernetes.io~csi/secrets-store-inline/mount';

describe('targetPathProblem: what the kernel would refuse', () => {
  it('refuses a NUL byte, which would cut the path short at another directory', () => {
    expect(targetPathProblem('/tmp/x\0y')).toMatchObject({ code: 'INVALID_ARGUMENT', reason: 'InvalidTargetPath', field: 'target_path', message: 'target_path must not contain a NUL byte' });
  });

  it('refuses a path of PATH_MAX bytes or more, counted in bytes', () => {
    const at = (bytes: number) => `/${'a'.repeat(200)}`.repeat(Math.ceil(bytes / 201)).slice(0, bytes);
    expect(targetPathProblem(at(4095))).toBeUndefined();
    expect(targetPathProblem(at(4096))).toMatchObject({ field: 'target_path', message: 'target_path is 4096 bytes long; a path must be shorter than 4096 bytes (PATH_MAX)' });
    // 1,366 three-byte characters: 4,098 bytes in 1,366 UTF-16 units.
    const wide = `/${'€'.repeat(200)}`.repeat(7);
    expect(targetPathProblem(wide)).toMatchObject({ field: 'target_path', message: expect.stringContaining('4207 bytes long') as unknown });
  });

  it('refuses a name longer than NAME_MAX bytes', () => {
    expect(targetPathProblem(`/tmp/${'n'.repeat(255)}/mount`)).toBeUndefined();
    expect(targetPathProblem(`/tmp/${'n'.repeat(256)}/mount`)).toMatchObject({ field: 'target_path', message: 'target_path has a name of 256 bytes; each name must be at most 255 bytes (NAME_MAX)' });
    expect(targetPathProblem(`/tmp/${'é'.repeat(128)}`)).toMatchObject({ message: expect.stringContaining('256 bytes') as unknown });
  });

  it("accepts kubelet's paths", () => {
    expect(targetPathProblem(kubeletPath)).toBeUndefined();
    expect(targetPathProblem(`${kubeletPath}/`)).toBeUndefined();
  });
});
