/**
 * libc-mount.ts on its own, in this process (it is meant for the helper; loading it here is fine
 * for a test): errno names, the calls' failure answers, and a load failure the helper falls back on.
 */
import { describe, expect, it } from 'vitest';
import { errnoName, loadLibcMount } from '../../../src/adapters/fs/libc-mount.js';
import { tempDirs } from '../../support/temp-target.js';

describe('errnoName', () => {
  it('names errno numbers as the kernel headers do, and says so when it cannot', () => {
    expect(errnoName(1)).toBe('EPERM');
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(16)).toBe('EBUSY');
    expect(errnoName(22)).toBe('EINVAL');
    expect(errnoName(99999)).toBe('errno 99999');
  });
});

describe('loadLibcMount', () => {
  it('answers failed calls with the errno name and strerror text', async () => {
    const dirs = tempDirs();
    try {
      const libc = await loadLibcMount();
      const missing = await dirs.make('missing');
      expect(libc.unmount(missing)).toEqual({ ok: false, errno: 'ENOENT', message: 'No such file or directory' });
      expect(libc.mountTmpfs(missing, 'size=4096,mode=0755')).toMatchObject({ ok: false, errno: expect.stringMatching(/^E(NOENT|PERM)$/) });
    } finally {
      await dirs.removeAll();
    }
  });

  it('rejects when the library cannot be loaded, so the helper can fall back to the commands', async () => {
    await expect(loadLibcMount('/nonexistent/libc.so.6')).rejects.toThrow(/load/i);
  });
});
