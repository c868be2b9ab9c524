/**
 * Turns a listen address into the absolute path of a Unix socket. Kubelet's CSI sidecars and the
 * upstream driver pass `--endpoint` as `unix://<path>`, where upstream prepends `/` to whatever
 * follows `://` (so `unix://tmp/csi.sock` and `unix:///tmp/csi.sock` both mean /tmp/csi.sock); a
 * provider socket is usually given as a plain absolute path. We accept those forms, plus gRPC's own
 * `unix:/abs` target syntax, and reject everything else (TCP included: both doors are node-local).
 */
import { posix } from 'node:path';
import { invalidArgument } from '../../core/errors.js';

const UNIX_URL = /^unix:\/\//i;
const UNIX_TARGET = /^unix:(?=\/)/i;

export function parseUnixEndpoint(endpoint: string): string {
  const trimmed = endpoint.trim();
  let path: string;
  if (UNIX_URL.test(trimmed)) {
    const rest = trimmed.replace(UNIX_URL, '');
    if (rest === '') throw invalidEndpoint(endpoint);
    path = `/${rest}`;
  } else if (UNIX_TARGET.test(trimmed)) {
    path = trimmed.replace(/^unix:/i, '');
  } else if (trimmed.startsWith('/')) {
    path = trimmed;
  } else {
    throw invalidEndpoint(endpoint);
  }
  const normalized = posix.normalize(path);
  if (normalized === '/' || normalized.endsWith('/')) throw invalidEndpoint(endpoint);
  return normalized;
}

/** The grpc-js address for a socket path (grpc-js takes `unix:` followed by an absolute path). */
export function grpcUnixAddress(socketPath: string): string {
  return `unix:${socketPath}`;
}

function invalidEndpoint(endpoint: string) {
  return invalidArgument(
    'InvalidEndpoint',
    `invalid endpoint: ${endpoint} (expected unix://<path> or an absolute socket path)`,
    'endpoint',
  );
}
