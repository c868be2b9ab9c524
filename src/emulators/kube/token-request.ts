/**
 * The `serviceaccounts/token` subresource (TokenRequest): what kubelet calls to get the projected
 * tokens it hands to CSI drivers. Checks the service account and a bound pod exist (and that the
 * pod's uid matches), then mints through the instance's TokenIssuer.
 */
import { typeById } from './resources.js';
import { badRequest, conflict, invalid, notFound } from './status.js';
import type { ObjectStore } from './store.js';
import { API_AUDIENCE } from './tokens.js';
import type { TokenIssuer } from './tokens.js';

interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

export function createTokenRequest(options: {
  store: ObjectStore;
  issuer: TokenIssuer;
  namespace: string;
  serviceAccount: string;
  body: unknown;
}): Record<string, unknown> {
  const { store, issuer, namespace, serviceAccount } = options;
  const saType = typeById('/serviceaccounts');
  const podType = typeById('/pods');
  if (saType === undefined || podType === undefined) throw new Error('resource catalogue lacks serviceaccounts or pods');
  const body = options.body as { spec?: TokenRequestSpec } | undefined;
  if (typeof body !== 'object' || body === null) throw badRequest('a TokenRequest body is required');
  const sa = store.get(saType, namespace, serviceAccount);
  if (sa === undefined) throw notFound(saType, serviceAccount);

  const spec: TokenRequestSpec = { ...(body.spec ?? {}) };
  const audiences = spec.audiences !== undefined && spec.audiences.length > 0 ? spec.audiences : [API_AUDIENCE];
  const expirationSeconds = spec.expirationSeconds ?? 3600;
  if (expirationSeconds < 600) {
    throw invalid(saType, serviceAccount, 'spec.expirationSeconds', 'Invalid value: may not specify a duration less than 10 minutes');
  }
  let pod: { name: string; uid: string } | undefined;
  const ref = spec.boundObjectRef;
  if (ref !== undefined && ref.kind === 'Pod') {
    const found = store.get(podType, namespace, ref.name ?? '');
    if (found === undefined) throw notFound(podType, ref.name ?? '');
    const uid = found.metadata.uid ?? '';
    if (ref.uid !== undefined && ref.uid !== '' && ref.uid !== uid) {
      throw conflict(podType, ref.name ?? '', `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    pod = { name: ref.name ?? '', uid };
  }
  const minted = issuer.mint({
    namespace,
    serviceAccount,
    serviceAccountUid: sa.metadata.uid ?? '',
    audiences,
    expirationSeconds,
    ...(pod === undefined ? {} : { pod }),
  });
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: serviceAccount, namespace, creationTimestamp: null },
    spec: { ...spec, audiences, expirationSeconds },
    status: { token: minted.token, expirationTimestamp: minted.expirationTimestamp },
  };
}
