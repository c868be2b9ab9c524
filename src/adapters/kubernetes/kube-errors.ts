/**
 * Translates @kubernetes/client-node failures into SecretletErrors, keeping the API server's own
 * message (it names the resource) and mapping HTTP status to a gRPC code.
 */
import { ApiException } from '@kubernetes/client-node';
import { SecretletError } from '../../core/errors.js';
import type { StatusCode } from '../../core/errors.js';

export function httpStatusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function isNotFound(err: unknown): boolean {
  return httpStatusOf(err) === 404;
}

export function isConflict(err: unknown): boolean {
  return httpStatusOf(err) === 409;
}

function statusMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: string };
        if (parsed.message) return parsed.message;
      } catch {
        return body.slice(0, 300);
      }
    }
    if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function codeFor(status: number | undefined): StatusCode {
  if (status === undefined) return 'UNAVAILABLE';
  if (status === 404) return 'NOT_FOUND';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 409) return 'ABORTED';
  if (status === 429 || status >= 500) return 'UNAVAILABLE';
  return 'FAILED_PRECONDITION';
}

/** `what` prefixes the API server's message; without it the message is the server's alone (`pods "x" not found`). */
export function kubeError(what: string | undefined, err: unknown): SecretletError {
  const status = httpStatusOf(err);
  return new SecretletError({
    code: codeFor(status),
    reason: status === undefined ? 'KubernetesUnavailable' : `KubernetesHttp${status}`,
    message: what === undefined ? statusMessage(err) : `${what}: ${statusMessage(err)}`,
    cause: err,
  });
}
