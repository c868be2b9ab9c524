/**
 * mount(2) and umount2(2) called through koffi (an FFI with prebuilt binaries, no compiler), for
 * the mount helper process. Why: spawning mount(8)/umount(8) cost ~2 ms of CPU per call in the
 * density benchmark (3 s for ~1,475 calls on a 2-core node); the syscalls themselves cost ~0.04 ms.
 *
 * koffi is imported dynamically, only by `loadLibcMount`, and only the helper process calls it: the
 * agent never maps a native addon for this. Loading can fail (a platform without a prebuilt koffi
 * binary, a libc other than glibc, a seccomp'd loader); the caller then falls back to the commands.
 *
 * The calls are synchronous: each takes microseconds on the local kubelet directories they target,
 * and a synchronous call is the only way to read errno reliably (it is per thread).
 */
import { constants } from 'node:os';

/**
 * MS_NOSUID | MS_NODEV (linux/mount.h): a secrets volume holds data files, so set-uid bits and
 * device nodes in it are never honoured. Not MS_NOEXEC: upstream mounts with no options, and a
 * pod may run a script it keeps in its secrets. mount(8)'s fallback gets the same as `nosuid,nodev`.
 */
const SECRET_VOLUME_FLAGS = 0x2 | 0x4;

/** What a call did: nothing to report, or the errno name and strerror's text. */
export type SyscallOutcome = { ok: true } | { ok: false; errno: string; message: string };

export interface LibcMount {
  /** `mount('tmpfs', target, 'tmpfs', 0, data)`, data like `size=1048576,mode=0755`. */
  mountTmpfs(target: string, data: string): SyscallOutcome;
  /** `umount2(target, 0)`. */
  unmount(target: string): SyscallOutcome;
}

/** The errno name for a number (`2` → `ENOENT`), from Node's table; unknown numbers as `errno 999`. */
export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}

/**
 * A path holding a NUL byte would be cut short at it by the C string conversion and name another
 * directory: refuse it as the kernel would refuse such a path, before calling anything.
 */
function nulByte(target: string): SyscallOutcome | undefined {
  return target.includes('\0') ? { ok: false, errno: 'EINVAL', message: 'path contains a NUL byte' } : undefined;
}

/**
 * Loads libc through koffi and binds the calls; rejects when koffi or libc cannot be loaded.
 * @param libcPath the shared library to load; tests pass a missing one to exercise the fallback.
 */
export async function loadLibcMount(libcPath = 'libc.so.6'): Promise<LibcMount> {
  if (process.platform !== 'linux') throw new Error(`mount(2) is Linux-only (platform ${process.platform})`);
  const { default: koffi } = await import('koffi');
  const libc = koffi.load(libcPath);
  const mount = libc.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
  const umount2 = libc.func('int umount2(const char *target, int flags)');
  const strerror = libc.func('const char *strerror(int errnum)');
  const outcome = (result: unknown): SyscallOutcome => {
    if (result === 0) return { ok: true };
    // Read at once: any later libc call (strerror included) may overwrite errno.
    const errno = koffi.errno();
    return { ok: false, errno: errnoName(errno), message: String(strerror(errno)) };
  };
  return {
    mountTmpfs: (target, data) => nulByte(target) ?? outcome(mount('tmpfs', target, 'tmpfs', SECRET_VOLUME_FLAGS, data)),
    unmount: (target) => nulByte(target) ?? outcome(umount2(target, 0)),
  };
}
