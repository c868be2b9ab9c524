/**
 * Errors of the Kubernetes emulator and their wire form. Handlers throw SecretletErrors whose
 * `reason` is the Kubernetes StatusReason (NotFound, AlreadyExists, Conflict, Invalid, ...) and whose
 * message is the exact text a real API server uses, because clients (kubectl apply, client-go's
 * retry-on-conflict, the agent) branch on the HTTP code and reason. `toStatus` turns one into the
 * `Status` object the API server returns.
 */
import { SecretletError } from '../../core/errors.js';
import type { StatusCode } from '../../core/errors.js';
import { aggregateText, required } from './field-errors.js';
import type { FieldError } from './field-errors.js';
import { qualifiedName } from './resources.js';
import type { ResourceType } from './resources.js';

/** HTTP code of each StatusReason the emulator uses. */
const HTTP_CODE: Record<string, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Expired: 410,
  Gone: 410,
  RequestEntityTooLarge: 413,
  TooManyRequests: 429,
  UnsupportedMediaType: 415,
  Invalid: 422,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

function kubeError(code: StatusCode, reason: string, message: string, field?: string): SecretletError {
  return new SecretletError({ code, reason, message, ...(field === undefined ? {} : { field }) });
}

export function notFound(type: ResourceType, name: string): SecretletError {
  return kubeError('NOT_FOUND', 'NotFound', `${qualifiedName(type)} "${name}" not found`);
}

/**
 * Errors about another object than the one the request names: a write into a missing namespace is
 * `namespaces "<ns>" not found`, and its Status details name the namespace, not the object.
 */
const otherSubjects = new WeakMap<SecretletError, StatusContext>();

/** Errors whose Status `details` are fixed when they are made (field causes, another kind's name). */
const explicitDetails = new WeakMap<SecretletError, StatusDetails>();

export function namespaceNotFound(namespaces: ResourceType, name: string): SecretletError {
  return otherNotFound(namespaces, name);
}

/** NotFound about another object than the URL's (a TokenRequest's bound Pod), with that object in `details`. */
export function otherNotFound(type: ResourceType, name: string): SecretletError {
  const error = notFound(type, name);
  otherSubjects.set(error, { type, name });
  return error;
}

/** 403 Forbidden about the object, as admission plugins refuse a request (NamespaceLifecycle). */
export function forbidden(type: ResourceType, name: string, why: string): SecretletError {
  return kubeError('PERMISSION_DENIED', 'Forbidden', `${qualifiedName(type)} "${name}" is forbidden: ${why}`);
}

/**
 * An error the storage layer returns as a plain Go error (not an API status): the API server sends
 * it as a 500 with no reason and the error's text, e.g. `resourceVersion should not be set on
 * objects to be created` (etcd3 store Create).
 */
export function unreasoned(message: string): SecretletError {
  return kubeError('INTERNAL', '', message);
}

export function pathNotFound(): SecretletError {
  return kubeError('NOT_FOUND', 'NotFound', 'the server could not find the requested resource');
}

export function alreadyExists(type: ResourceType, name: string): SecretletError {
  return kubeError('ALREADY_EXISTS', 'AlreadyExists', `${qualifiedName(type)} "${name}" already exists`);
}

export function conflict(type: ResourceType, name: string, why?: string): SecretletError {
  const detail = why ?? 'the object has been modified; please apply your changes to the latest version and try again';
  return kubeError('ABORTED', 'Conflict', `Operation cannot be fulfilled on ${qualifiedName(type)} "${name}": ${detail}`);
}

/**
 * The 422 of a PUT without `metadata.resourceVersion` on a type that refuses unconditional updates
 * (every custom resource): the generic registry names the resource, not the kind, in its message.
 */
export function resourceVersionRequired(type: ResourceType, name: string): SecretletError {
  const field = 'metadata.resourceVersion';
  const error = kubeError('INVALID_ARGUMENT', 'Invalid', `${qualifiedName(type)} "${name}" is invalid: ${field}: Invalid value: 0x0: must be specified for an update`, field);
  const cause = { reason: 'FieldValueInvalid', message: 'Invalid value: 0x0: must be specified for an update', field };
  explicitDetails.set(error, { ...(name === '' ? {} : { name }), group: type.group, kind: type.plural, causes: [cause] });
  return error;
}

/** How NewInvalid names a kind: `Secret` for core, `SecretProviderClass.secrets-store.csi.x-k8s.io` otherwise. */
function qualifiedKind(subject: { group: string; kind: string }): string {
  return subject.group === '' ? subject.kind : `${subject.kind}.${subject.group}`;
}

/**
 * 422 Invalid listing every field error, as apierrors.NewInvalid builds it: the message joins them
 * (`Secret "x" is invalid: [data[a b]: Invalid value: ..., type: Invalid value: ...]`) and each is a
 * cause with its field. `subject` is the kind being validated (a TokenRequest is not its URL's type).
 */
export function invalidFields(subject: { group: string; kind: string }, name: string, errors: readonly FieldError[]): SecretletError {
  const first = errors[0];
  const error = kubeError('INVALID_ARGUMENT', 'Invalid', `${qualifiedKind(subject)} "${name}" is invalid: ${aggregateText(errors)}`, first?.field);
  explicitDetails.set(error, {
    ...(name === '' ? {} : { name }),
    group: subject.group,
    kind: subject.kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.body, field: e.field })),
  });
  return error;
}

/** 422 Invalid about one field: `Secret "x" is invalid: metadata.name: Required value`. `detail` is the body after the field. */
export function invalid(type: ResourceType, name: string, field: string, detail: string): SecretletError {
  const isRequired = detail.startsWith('Required value');
  const fieldError: FieldError = isRequired ? required(field, detail.replace(/^Required value:? ?/, '')) : { type: 'FieldValueInvalid', field, body: detail };
  return invalidFields(type, name, [fieldError]);
}

/**
 * A JSON patch that decodes but cannot be applied (a failed `test`, a missing path): the API
 * server answers a bare 422 with a fixed message and no details (handlers/patch.go applyJSPatch).
 */
export function patchNotApplicable(): SecretletError {
  const error = kubeError('INVALID_ARGUMENT', 'Invalid', 'the server rejected our request due to an error in our request');
  explicitDetails.set(error, {});
  return error;
}

/** 400 for a body that does not decode into the kind, in the decoder's words. */
export function cannotBeHandled(subject: { kind: string; version: string }, why: string): SecretletError {
  return badRequest(`${subject.kind} in version "${subject.version}" cannot be handled as a ${subject.kind}: ${why}`);
}

/**
 * 409 about another object than the URL's, named by its kind as the TokenRequest registry does:
 * `Operation cannot be fulfilled on Pod "web": ...`.
 */
export function conflictOn(kind: string, name: string, why: string): SecretletError {
  const error = kubeError('ABORTED', 'Conflict', `Operation cannot be fulfilled on ${kind} "${name}": ${why}`);
  explicitDetails.set(error, { name, kind });
  return error;
}

export function badRequest(message: string): SecretletError {
  return kubeError('INVALID_ARGUMENT', 'BadRequest', message);
}

export function methodNotAllowed(): SecretletError {
  return kubeError('UNIMPLEMENTED', 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function unsupportedMediaType(contentType: string): SecretletError {
  return kubeError(
    'INVALID_ARGUMENT',
    'UnsupportedMediaType',
    `the body of the request was in an unknown format (${contentType}) - accepted media types include: ` +
      'application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
  );
}

/** A create or update whose body is in a format the type cannot decode (the decoder's 415). */
export function unsupportedBodyType(type: ResourceType): SecretletError {
  const accepted = type.builtin ? 'application/json, application/yaml, application/vnd.kubernetes.protobuf' : 'application/json, application/yaml';
  return kubeError('INVALID_ARGUMENT', 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted}`);
}

/**
 * A PATCH whose content type the type does not take: the API server's 415, listing what it accepts
 * (strategic merge patch only for built-in types).
 */
export function unsupportedPatchType(type: ResourceType): SecretletError {
  const accepted = type.builtin
    ? 'application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml'
    : 'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml';
  return kubeError('INVALID_ARGUMENT', 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted}`);
}

/** A body over the API server's limit (its handlers' limitedReadBody): 413, no details. */
export function requestEntityTooLarge(limit: number): SecretletError {
  return kubeError('RESOURCE_EXHAUSTED', 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

export function unauthorized(): SecretletError {
  return kubeError('UNAUTHENTICATED', 'Unauthorized', 'Unauthorized');
}

/**
 * API Priority and Fairness refusing a request (its tooManyRequests): 429 with the seconds to wait
 * in `details` (the handler also sets the Retry-After header).
 */
export function tooManyRequests(retryAfterSeconds: number): SecretletError {
  const error = kubeError('RESOURCE_EXHAUSTED', 'TooManyRequests', 'Too many requests, please try again later.');
  explicitDetails.set(error, { retryAfterSeconds });
  return error;
}

export function unavailable(): SecretletError {
  return kubeError('UNAVAILABLE', 'ServiceUnavailable', 'the API server is paused (simulated outage)');
}

/**
 * A watch or list from a resourceVersion the store has not reached: the API server's watch cache
 * waits up to 3 s for it and then answers this 504 (storage.NewTooLargeResourceVersionError), which
 * client-go's reflectors recognise by its cause and answer with a fresh list. The emulator's store
 * is never behind itself, so it answers at once: the version can only come from another server
 * (an emulator restarted on the same port).
 */
export function resourceVersionTooLarge(requested: number, current: number): SecretletError {
  const error = kubeError('DEADLINE_EXCEEDED', 'Timeout', `Too large resource version: ${requested}, current: ${current}`);
  explicitDetails.set(error, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
  return error;
}

export function expired(requested: number, oldest: number): SecretletError {
  return kubeError('OUT_OF_RANGE', 'Expired', `too old resource version: ${requested} (${oldest})`);
}

/** What the request was about, for the Status `details`. */
export interface StatusContext {
  type?: ResourceType;
  name?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message: string; field?: string }[];
  retryAfterSeconds?: number;
}

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/**
 * The `Status` a DELETE answers when the registry does not return the deleted object
 * (ReturnDeletedObject unset: secrets, nodes, events, custom resources).
 */
export function deleteSuccess(type: ResourceType, name: string, uid: string | undefined): Record<string, unknown> {
  const details: Record<string, unknown> = { name, ...(type.group === '' ? {} : { group: type.group }), kind: type.plural, ...(uid === undefined ? {} : { uid }) };
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

const DETAILED_REASONS = new Set(['NotFound', 'AlreadyExists', 'Conflict', 'Invalid', 'Forbidden']);

/** Turns anything thrown by a handler into the HTTP code and Status body the API server would send. */
export function toStatus(err: unknown, context: StatusContext = {}): StatusObject {
  const e =
    err instanceof SecretletError ? err : kubeError('INTERNAL', 'InternalError', `Internal error occurred: ${errorText(err)}`);
  const code = HTTP_CODE[e.reason] ?? 500;
  const subject = otherSubjects.get(e) ?? context;
  // An unknown reason is the empty string, which the API server's JSON omits.
  const status: StatusObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, ...(e.reason === '' ? {} : { reason: e.reason }), code };
  const fixed = explicitDetails.get(e);
  if (fixed !== undefined) {
    status.details = structuredClone(fixed);
    return status;
  }
  // Only the registry's errors name the object; request-level ones (BadRequest, UnsupportedMediaType) carry no details.
  if (subject.type !== undefined && DETAILED_REASONS.has(e.reason)) {
    const kind = e.reason === 'Invalid' ? subject.type.kind : subject.type.plural;
    status.details = { ...(subject.name ? { name: subject.name } : {}), group: subject.type.group, kind };
    if (e.field !== undefined) status.details.causes = [{ reason: 'FieldValueInvalid', message: e.message, field: e.field }];
  }
  return status;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
