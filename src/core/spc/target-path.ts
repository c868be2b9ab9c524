import { posix } from 'node:path';
import { invalidArgument } from '../errors.js';
import type { SecretletError } from '../errors.js';

/**
 * A target path that is not absolute and normalized (one trailing slash allowed), or that the kernel
 * would refuse (a NUL byte, past PATH_MAX or NAME_MAX). Kubelet always
 * sends `/var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~csi/<name>/mount` (or under its custom
 * root dir), so this refuses only other callers on the socket: the agent mounts over and `rm -rf`s
 * this path as root, and `/tmp/x/../victim` or a path relative to the agent's working directory
 * would aim that at an arbitrary host directory, or at one other than the caller claims. No root is
 * imposed: kubelet's root dir is configurable. Upstream has no such check. Both doors use it: the
 * provider door writes (and rotation rewrites) files as root into the path the driver sends.
 */
export function targetPathProblem(path: string): SecretletError | undefined {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  // normalize() removes `.`, `..` and empty segments of an absolute path, so any of them shows as a
  // difference; it keeps a trailing slash, so a second one (`/a//`) is refused on its own.
  // The root itself is never a volume: mounting over it or emptying it would take the host with it.
  const normal = trimmed !== '/' && posix.normalize(trimmed) === trimmed && !trimmed.endsWith('/');
  if (!(trimmed.startsWith('/') && normal && !trimmed.split('/').includes('..'))) return notNormal(path);
  // What the kernel would refuse (a NUL ends the C string early: another directory; lengths past
  // PATH_MAX or NAME_MAX fail every call) is refused here, naming the field, not as an INTERNAL
  // error of whichever filesystem call meets it first.
  if (path.includes('\0')) return invalidArgument('InvalidTargetPath', 'target_path must not contain a NUL byte', 'target_path');
  const pathBytes = Buffer.byteLength(path);
  if (pathBytes >= PATH_MAX) {
    return invalidArgument('InvalidTargetPath', `target_path is ${pathBytes} bytes long; a path must be shorter than ${PATH_MAX} bytes (PATH_MAX)`, 'target_path');
  }
  const longName = trimmed
    .split('/')
    .map((name) => Buffer.byteLength(name))
    .find((bytes) => bytes > NAME_MAX);
  if (longName !== undefined) {
    return invalidArgument('InvalidTargetPath', `target_path has a name of ${longName} bytes; each name must be at most ${NAME_MAX} bytes (NAME_MAX)`, 'target_path');
  }
  return undefined;
}

/** Linux's limits (linux/limits.h): a path with its terminating NUL, and one name in it. */
const PATH_MAX = 4096;
const NAME_MAX = 255;

function notNormal(path: string): SecretletError {
  return invalidArgument(
    'InvalidTargetPath',
    `target_path must be an absolute path below / in normal form (no '.', '..' or empty segments), got ${JSON.stringify(path)}`,
    'target_path',
  );
}
