import { posix } from 'node:path';
import { invalidArgument } from '../errors.js';
import type { SecretletError } from '../errors.js';

/**
 * A target path that is not absolute and normalized (one trailing slash allowed). Kubelet always
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
  if (trimmed.startsWith('/') && normal && !trimmed.split('/').includes('..')) return undefined;
  return invalidArgument(
    'InvalidTargetPath',
    `target_path must be an absolute path below / in normal form (no '.', '..' or empty segments), got ${JSON.stringify(path)}`,
    'target_path',
  );
}
