/**
 * Turns one `secretObjects` entry of a SecretProviderClass plus the files a mount produced into the
 * Kubernetes Secret that should exist (driver.md §4.3 step 9, same checks and texts). Pure: the
 * caller reads the files and writes the Secret.
 */
import { SecretletError } from '../errors.js';
import type { SecretObjectSpec } from '../ports/spc-catalog.js';
import { splitTlsData } from './tls-split.js';

export const MANAGED_LABEL = 'secrets-store.csi.k8s.io/managed';

export interface OwnerPod {
  name: string;
  uid: string;
}

export interface DesiredSecret {
  namespace: string;
  name: string;
  type: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  data: Record<string, Uint8Array>;
}

function syncError(message: string, field: string): SecretletError {
  return new SecretletError({ code: 'FAILED_PRECONDITION', reason: 'FailedToCreateSecret', message, field });
}

export function buildDesiredSecret(options: {
  namespace: string;
  spcName: string;
  spec: SecretObjectSpec;
  index: number;
  files: ReadonlyMap<string, Uint8Array>;
}): DesiredSecret {
  const { spec, index, namespace, spcName } = options;
  const field = `spec.secretObjects[${index}]`;
  const name = spec.secretName.trim();
  if (name === '') throw syncError('secret name is empty', `${field}.secretName`);
  if (spec.type.trim() === '') throw syncError('secret type is empty', `${field}.type`);
  if (spec.data.length === 0) throw syncError('data is empty', `${field}.data`);
  const type = spec.type.trim();
  // Every failure reading the data is reported inside the driver's wrapper (driver.md §4.3 step 9).
  const dataError = (reason: string, at: string) => syncError(`failed to get data in spc ${namespace}/${spcName} for secret ${name}, err: ${reason}`, at);
  // Prototype-less, so every key a Secret may have (`constructor`, `toString`…) is data.
  const data = Object.create(null) as Record<string, Uint8Array>;
  spec.data.forEach((entry, i) => {
    const objectName = entry.objectName.trim();
    const key = entry.key.trim();
    if (objectName === '') throw dataError('object name in secretObjects.data', `${field}.data[${i}].objectName`);
    if (key === '') throw dataError('key in secretObjects.data is empty', `${field}.data[${i}].key`);
    // A valid Secret key, but one the Kubernetes client library drops from every Secret it sends or
    // reads (its serializer builds plain objects), so the Secret would lack it without a word.
    if (key === '__proto__') throw dataError('key __proto__ in secretObjects.data cannot be synced by secretlet', `${field}.data[${i}].key`);
    const bytes = options.files.get(objectName);
    if (bytes === undefined) throw dataError(`file matching objectName ${objectName} not found in the pod`, `${field}.data[${i}].objectName`);
    data[key] = bytes;
  });
  let finalData = data;
  if (type === 'kubernetes.io/tls') {
    try {
      finalData = splitTlsData(data, `${field}.data`);
    } catch (e) {
      if (!(e instanceof SecretletError)) throw e;
      throw dataError(e.message, e.field ?? `${field}.data`);
    }
  }
  return {
    namespace,
    name,
    type,
    labels: { ...spec.labels, [MANAGED_LABEL]: 'true' },
    annotations: { ...spec.annotations },
    data: finalData,
  };
}
