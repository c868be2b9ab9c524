/**
 * The `serviceaccounts/token` subresource (TokenRequest): what kubelet calls to get the projected
 * tokens it hands to CSI drivers. Follows the API server's registry (serviceaccount/storage/token.go)
 * step by step: the body must decode (400), the service account must exist (404), the lifetime
 * must be 10 minutes to 2^32 seconds (422), and a bound object must be a Pod, Node or Secret (400)
 * that exists (404), run as the requested service account if it is a Pod (400), and have the uid the
 * reference names (409). Then it mints through the instance's TokenIssuer.
 */
import { invalidValue } from './field-errors.js';
import type { FieldError } from './field-errors.js';
import { jsonKind } from './object-meta.js';
import { typeById } from './resources.js';
import type { ResourceType } from './resources.js';
import { badRequest, cannotBeHandled, conflictOn, invalidFields, notFound, otherNotFound } from './status.js';
import type { ObjectStore } from './store.js';
import { API_AUDIENCE, MAX_TOKEN_EXPIRATION_SECONDS } from './tokens.js';
import type { BoundObject, TokenIssuer } from './tokens.js';

const TOKEN_REQUEST = { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' };
/** ValidateTokenRequest's lower bound. */
const MIN_EXPIRATION_SECONDS = 600;
const DEFAULT_EXPIRATION_SECONDS = 3600;
const INT64_LIMIT = 2 ** 63;

interface BoundObjectRef {
  kind: string;
  apiVersion: string;
  name: string;
  uid: string;
}

interface TokenRequestSpec {
  audiences: string[];
  expirationSeconds: number;
  boundObjectRef?: BoundObjectRef;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requiredType(id: string): ResourceType {
  const type = typeById(id);
  if (type === undefined) throw new Error(`resource catalogue lacks ${id}`);
  return type;
}

/** The spec as the decoder reads it (400 for what cannot be a TokenRequestSpec), with v1 defaults. */
function decodeSpec(raw: unknown): TokenRequestSpec {
  const refuse = (field: string, value: unknown, goType: string): never => {
    const got = typeof value === 'number' ? `number ${String(value)}` : jsonKind(value);
    throw cannotBeHandled(TOKEN_REQUEST, `json: cannot unmarshal ${got} into Go struct field ${field} of type ${goType}`);
  };
  if (raw === undefined || raw === null) return { audiences: [], expirationSeconds: DEFAULT_EXPIRATION_SECONDS };
  if (!isRecord(raw)) return refuse('TokenRequest.spec', raw, 'v1.TokenRequestSpec');
  const { audiences, expirationSeconds, boundObjectRef } = raw;
  if (audiences !== undefined && audiences !== null && !(Array.isArray(audiences) && audiences.every((a) => typeof a === 'string'))) {
    refuse('TokenRequestSpec.spec.audiences', Array.isArray(audiences) ? audiences.find((a) => typeof a !== 'string') : audiences, Array.isArray(audiences) ? 'string' : '[]string');
  }
  // Go decodes into an int64: a string, a fraction or a number beyond int64 does not decode.
  if (expirationSeconds !== undefined && expirationSeconds !== null && !(typeof expirationSeconds === 'number' && Number.isInteger(expirationSeconds) && Math.abs(expirationSeconds) < INT64_LIMIT)) {
    refuse('TokenRequestSpec.spec.expirationSeconds', expirationSeconds, 'int64');
  }
  let ref: BoundObjectRef | undefined;
  if (boundObjectRef !== undefined && boundObjectRef !== null) {
    if (!isRecord(boundObjectRef)) return refuse('TokenRequestSpec.spec.boundObjectRef', boundObjectRef, 'v1.BoundObjectReference');
    const text = (field: string): string => {
      const value = boundObjectRef[field];
      if (value === undefined || value === null) return '';
      return typeof value === 'string' ? value : refuse(`BoundObjectReference.spec.boundObjectRef.${field}`, value, field === 'uid' ? 'types.UID' : 'string');
    };
    ref = { kind: text('kind'), apiVersion: text('apiVersion'), name: text('name'), uid: text('uid') };
  }
  return {
    audiences: Array.isArray(audiences) ? (audiences as string[]) : [],
    expirationSeconds: typeof expirationSeconds === 'number' ? expirationSeconds : DEFAULT_EXPIRATION_SECONDS,
    ...(ref === undefined ? {} : { boundObjectRef: ref }),
  };
}

/** ValidateTokenRequest. */
function specErrors(spec: TokenRequestSpec): FieldError[] {
  const field = 'spec.expirationSeconds';
  if (spec.expirationSeconds < MIN_EXPIRATION_SECONDS) return [invalidValue(field, spec.expirationSeconds, 'may not specify a duration less than 10 minutes')];
  if (spec.expirationSeconds > MAX_TOKEN_EXPIRATION_SECONDS) return [invalidValue(field, spec.expirationSeconds, 'may not specify a duration larger than 2^32 seconds')];
  return [];
}

/** schema.FromAPIVersionAndKind: the group of `v1` is '', of `apps/v1` `apps`; anything else has none. */
function groupOf(apiVersion: string): { group: string; version: string } {
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: parts[0] ?? '' };
  if (parts.length === 2) return { group: parts[0] ?? '', version: parts[1] ?? '' };
  return { group: '', version: '' };
}

interface Binding {
  pod?: { name: string; uid: string };
  node?: BoundObject;
  secret?: { name: string; uid: string };
}

/** The objects a token is bound to, after the registry's checks of the reference. */
function resolveBinding(store: ObjectStore, namespace: string, serviceAccount: string, ref: BoundObjectRef): Binding {
  const { group, version } = groupOf(ref.apiVersion);
  const lookup = (type: ResourceType, name: string): { uid: string; spec?: unknown } => {
    const found = store.get(type, type.namespaced ? namespace : undefined, name);
    if (found === undefined) throw otherNotFound(type, name);
    return { uid: found.metadata.uid ?? '', spec: found['spec'] };
  };
  let binding: Binding;
  let uid: string;
  if (group === '' && ref.kind === 'Pod') {
    const pod = lookup(requiredType('/pods'), ref.name);
    const spec = isRecord(pod.spec) ? pod.spec : {};
    if (spec['serviceAccountName'] !== serviceAccount) {
      throw badRequest(`cannot bind token for serviceaccount ${JSON.stringify(serviceAccount)} to pod running with different serviceaccount name.`);
    }
    uid = pod.uid;
    binding = { pod: { name: ref.name, uid } };
    // ServiceAccountTokenPodNodeInfo: a pod's token names its node too (without uid when the Node is missing).
    const nodeName = typeof spec['nodeName'] === 'string' ? spec['nodeName'] : '';
    if (nodeName !== '') {
      const node = store.get(requiredType('/nodes'), undefined, nodeName);
      binding.node = { name: nodeName, ...(node?.metadata.uid === undefined ? {} : { uid: node.metadata.uid }) };
    }
  } else if (group === '' && ref.kind === 'Node') {
    uid = lookup(requiredType('/nodes'), ref.name).uid;
    binding = { node: { name: ref.name, uid } };
  } else if (group === '' && ref.kind === 'Secret') {
    uid = lookup(requiredType('/secrets'), ref.name).uid;
    binding = { secret: { name: ref.name, uid } };
  } else {
    throw badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${ref.kind}`);
  }
  if (ref.uid !== '' && ref.uid !== uid) {
    throw conflictOn(
      ref.kind,
      ref.name,
      `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
    );
  }
  return binding;
}

/** The reference as the API server echoes it: empty fields are omitted. */
function withoutBlanks(ref: BoundObjectRef): Partial<BoundObjectRef> {
  return Object.fromEntries(Object.entries(ref).filter(([, v]) => v !== ''));
}

export function createTokenRequest(options: {
  store: ObjectStore;
  issuer: TokenIssuer;
  namespace: string;
  serviceAccount: string;
  body: unknown;
}): Record<string, unknown> {
  const { store, issuer, namespace, serviceAccount } = options;
  const body = options.body;
  if (!isRecord(body)) throw badRequest('a TokenRequest body is required');
  const spec = decodeSpec(body['spec']);
  const metadata = isRecord(body['metadata']) ? body['metadata'] : {};
  const bodyName = typeof metadata['name'] === 'string' ? metadata['name'] : '';
  if (bodyName !== '' && bodyName !== serviceAccount) {
    throw invalidFields(TOKEN_REQUEST, serviceAccount, [invalidValue('metadata.name', bodyName, 'must match the service account name if specified')]);
  }

  const saType = requiredType('/serviceaccounts');
  const sa = store.get(saType, namespace, serviceAccount);
  if (sa === undefined) throw notFound(saType, serviceAccount);
  const audiences = spec.audiences.length > 0 ? spec.audiences : [API_AUDIENCE];
  const errors = specErrors(spec);
  if (errors.length > 0) throw invalidFields(TOKEN_REQUEST, '', errors);
  const binding = spec.boundObjectRef === undefined ? {} : resolveBinding(store, namespace, serviceAccount, spec.boundObjectRef);

  const minted = issuer.mint({
    namespace,
    serviceAccount,
    serviceAccountUid: sa.metadata.uid ?? '',
    audiences,
    expirationSeconds: spec.expirationSeconds,
    ...binding,
  });
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: serviceAccount, namespace, creationTimestamp: null },
    spec: { ...spec, audiences, ...(spec.boundObjectRef === undefined ? {} : { boundObjectRef: withoutBlanks(spec.boundObjectRef) }) },
    status: { token: minted.token, expirationTimestamp: minted.expirationTimestamp },
  };
}
