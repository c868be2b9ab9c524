/**
 * Offline validation of a SecretProviderClass document (`secretlet validate`): the checks the
 * driver makes on the object, then exactly the parameter and object validation a mount would run
 * (parseMountRequest/planMount with a placeholder pod and placeholder tokens), then the
 * `secretObjects` rules the driver's Secret sync applies, checked against the files a mount of
 * these objects would produce.
 *
 * Without a `region` parameter and without `opts.region`, ARN objects are checked against no
 * region (each ARN's own region is accepted) and the report says so in `notes`.
 */
import { SecretletError, invalidArgument } from '../errors.js';
import type { ObjectDescriptor, PathTranslation } from '../model.js';
import { ATTR_POD_NAME, ATTR_POD_NAMESPACE, ATTR_POD_UID, ATTR_SERVICE_ACCOUNT_NAME, ATTR_TOKENS } from './attributes.js';
import { parseMountRequest, planMount } from './mount-request.js';
import { noObjectsProblem, parametersProblem, providerProblem } from './spc-checks.js';
import { AUDIENCE_IRSA, AUDIENCE_POD_IDENTITY } from './tokens.js';
import { labelValueProblem, metadataKeyProblem, missingForType, secretKeyProblem, secretNameProblem } from './secret-object-rules.js';
import { producedFileNames, validateObjects } from './validate-objects.js';

export interface ValidationReport {
  /** True when `errors` is empty. */
  ok: boolean;
  errors: SecretletError[];
  /** Things worth knowing that are not errors (deprecated apiVersion, region assumptions). */
  notes: string[];
  /** Files a mount would write (empty when the objects did not validate). */
  files: string[];
}

export interface ValidateSpcOptions {
  /** The region a mount would resolve when the SPC has no `region` parameter (e.g. AWS_REGION). */
  region?: string;
}

const API_V1 = 'secrets-store.csi.x-k8s.io/v1';
const API_V1ALPHA1 = 'secrets-store.csi.x-k8s.io/v1alpha1';
const PLACEHOLDER_TOKENS = JSON.stringify({
  [AUDIENCE_IRSA]: { token: 'placeholder', expirationTimestamp: '' },
  [AUDIENCE_POD_IDENTITY]: { token: 'placeholder', expirationTimestamp: '' },
});

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function bad(reason: string, message: string, field: string): SecretletError {
  return invalidArgument(reason, message, field);
}

function toError(e: unknown): SecretletError {
  return e instanceof SecretletError ? e : new SecretletError({ code: 'INTERNAL', reason: 'Internal', message: e instanceof Error ? e.message : String(e) });
}

/** `spec.parameters` as a string map, reporting non-string values. */
function stringParameters(raw: Record<string, unknown>, errors: SecretletError[]): Record<string, string> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'string') out.push([k, v]);
    else errors.push(bad('InvalidParameter', `spec.parameters.${k} must be a string (quote it in YAML)`, `spec.parameters.${k}`));
  }
  return Object.fromEntries(out);
}

/** The mount's own parameter and object validation, with a placeholder pod. */
interface ValidatedObjects {
  objects: ObjectDescriptor[];
  pathTranslation: PathTranslation;
}

function validateMountParameters(parameters: Record<string, string>, opts: ValidateSpcOptions, report: ValidationReport): ValidatedObjects | undefined {
  const attributes = {
    ...parameters,
    [ATTR_POD_NAMESPACE]: 'validate',
    [ATTR_POD_NAME]: 'validate',
    [ATTR_POD_UID]: '00000000-0000-0000-0000-000000000000',
    [ATTR_SERVICE_ACCOUNT_NAME]: 'validate',
    [ATTR_TOKENS]: PLACEHOLDER_TOKENS,
  };
  try {
    // With --region standing for the node's, the regions are checked where a mount checks them.
    const parsed = parseMountRequest({ attributes: JSON.stringify(attributes), targetPath: '/validate', permission: '420' }, opts.region);
    const region = parsed.regionParam !== '' ? parsed.regionParam : opts.region;
    const pathTranslation = parsed.pathTranslation;
    if (region !== undefined && region !== '') return { objects: planMount(parsed, region).objects, pathTranslation };
    const failover = parsed.failoverRegionParam === '' ? undefined : parsed.failoverRegionParam;
    const objects = validateObjects({ objectsText: parsed.objectsText, pathTranslation, regions: { primary: undefined, failover } });
    // Only an ARN names a region that a mount would check against the primary one.
    if (objects.some((d) => d.objectName.startsWith('arn:'))) {
      report.notes.push('no region parameter and no --region given: ARN objects were checked against their own region');
    }
    return { objects, pathTranslation };
  } catch (e) {
    report.errors.push(toError(e));
    return undefined;
  }
}

const TLS_KEYS = new Set(['tls.crt', 'tls.key']);

/** The driver's Secret-sync rules (driver.md §4.3 step 9, §4.5), against the files a mount produces. */
function validateSecretObjects(raw: unknown, files: ReadonlySet<string> | undefined, errors: SecretletError[]): void {
  if (raw === undefined || raw === null) return;
  if (!Array.isArray(raw)) {
    errors.push(bad('InvalidSecretObject', 'spec.secretObjects must be a list', 'spec.secretObjects'));
    return;
  }
  for (const [i, item] of raw.entries()) {
    const where = `spec.secretObjects[${i}]`;
    const so = asRecord(item) ?? {};
    const secretName = text(so['secretName']).trim();
    const type = text(so['type']).trim();
    const data = Array.isArray(so['data']) ? (so['data'] as unknown[]) : [];
    if (secretName === '') errors.push(bad('InvalidSecretObject', `secret name is empty (${where}.secretName)`, `${where}.secretName`));
    const nameProblem = secretName === '' ? undefined : secretNameProblem(secretName);
    if (nameProblem) errors.push(refusedByApiServer(`secret name "${secretName}": ${nameProblem}`, `${where}.secretName`));
    for (const [key, value] of Object.entries(asRecord(so['labels']) ?? {})) {
      const keyProblem = metadataKeyProblem(key);
      const valueProblem = labelValueProblem(text(value));
      if (keyProblem) errors.push(refusedByApiServer(`label key ${JSON.stringify(key)}: ${keyProblem}`, `${where}.labels`));
      if (valueProblem) errors.push(refusedByApiServer(`label value ${JSON.stringify(text(value))} (of ${key}): ${valueProblem}`, `${where}.labels`));
    }
    for (const key of Object.keys(asRecord(so['annotations']) ?? {})) {
      // The API server checks annotation keys lowercased (ValidateAnnotations), label keys as they are.
      const problem = metadataKeyProblem(key.toLowerCase());
      if (problem) errors.push(refusedByApiServer(`annotation key ${JSON.stringify(key)}: ${problem}`, `${where}.annotations`));
    }
    if (type === '') errors.push(bad('InvalidSecretObject', `secret type is empty (${where}.type)`, `${where}.type`));
    if (data.length === 0) errors.push(bad('InvalidSecretObject', `data is empty (${where}.data)`, `${where}.data`));
    for (const [j, entry] of data.entries()) {
      const at = `${where}.data[${j}]`;
      const e = asRecord(entry) ?? {};
      const objectName = text(e['objectName']).trim();
      const key = text(e['key']).trim();
      if (objectName === '') {
        errors.push(bad('InvalidSecretObject', `object name in secretObjects.data is empty (${at}.objectName)`, `${at}.objectName`));
      } else if (files !== undefined && !files.has(objectName)) {
        const known = [...files].join(', ');
        errors.push(bad('InvalidSecretObject', `file matching objectName ${objectName} not found in the pod (${at}.objectName; the mount writes: ${known})`, `${at}.objectName`));
      }
      if (key === '') errors.push(bad('InvalidSecretObject', `key in secretObjects.data is empty (${at}.key)`, `${at}.key`));
      else if (type === 'kubernetes.io/tls' && !TLS_KEYS.has(key)) {
        errors.push(bad('InvalidSecretObject', `key '${key}' is not supported. Only 'tls.key' and 'tls.crt' are supported (${at}.key)`, `${at}.key`));
      } else {
        const keyProblem = secretKeyProblem(key);
        if (keyProblem) errors.push(refusedByApiServer(`data key "${key}": ${keyProblem}`, `${at}.key`));
      }
    }
    if (type !== '' && data.length > 0) {
      const keys = new Set(data.map((entry) => text(asRecord(entry)?.['key']).trim()));
      const annotations = Object.fromEntries(Object.entries(asRecord(so['annotations']) ?? {}).map(([k, v]) => [k, text(v)]));
      const missing = missingForType(type, keys, annotations);
      if (missing.length > 0) errors.push(refusedByApiServer(`a Secret of type ${type} needs ${missing.join(' and ')}`, `${where}.data`));
    }
  }
}

/** secretNames (trimmed, as the sync uses them) that more than one secretObjects entry gives. */
function repeatedSecretNames(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const item of raw) {
    const name = text(asRecord(item)?.['secretName']).trim();
    if (name === '') continue;
    if (seen.has(name)) repeated.add(name);
    seen.add(name);
  }
  return [...repeated];
}

/** A secretObjects entry whose Secret the API server refuses at every sync (secret-object-rules.ts). */
function refusedByApiServer(what: string, field: string): SecretletError {
  return bad('InvalidSecretObject', `${what}: the API server refuses the synced Secret (${field})`, field);
}

export function validateSecretProviderClass(doc: unknown, opts: ValidateSpcOptions): ValidationReport {
  const report: ValidationReport = { ok: false, errors: [], notes: [], files: [] };
  const errors = report.errors;
  const root = asRecord(doc);
  if (root === undefined) {
    errors.push(bad('InvalidSecretProviderClass', 'document is not a SecretProviderClass object', ''));
    return report;
  }
  const apiVersion = text(root['apiVersion']);
  if (apiVersion === API_V1ALPHA1) report.notes.push(`${API_V1ALPHA1} is deprecated. Use ${API_V1} instead.`);
  else if (apiVersion !== API_V1) errors.push(bad('InvalidApiVersion', `apiVersion must be ${API_V1}, got ${JSON.stringify(apiVersion)}`, 'apiVersion'));
  if (root['kind'] !== 'SecretProviderClass') {
    errors.push(bad('InvalidKind', `kind must be SecretProviderClass, got ${JSON.stringify(text(root['kind']))}`, 'kind'));
  }
  const metadata = asRecord(root['metadata']) ?? {};
  const ref = `${text(metadata['namespace']) || 'default'}/${text(metadata['name'])}`;
  const spec = asRecord(root['spec']) ?? {};
  const provider = text(spec['provider']);
  const providerError = providerProblem(ref, provider);
  if (providerError) errors.push(providerError);
  if (provider !== '' && provider !== 'aws') report.notes.push(`secretlet serves provider "aws" only; a class of provider "${provider}" needs that provider's own driver`);

  const rawParameters = asRecord(spec['parameters']);
  let validated: ValidatedObjects | undefined;
  const parametersError = parametersProblem(ref, rawParameters);
  if (parametersError) {
    errors.push(parametersError);
  } else if (rawParameters !== undefined) {
    const parameters = stringParameters(rawParameters, errors);
    validated = validateMountParameters(parameters, opts, report);
  }
  if (validated !== undefined) report.files = producedFileNames(validated.objects, validated.pathTranslation);
  const noObjects = validated === undefined ? undefined : noObjectsProblem(validated.objects);
  if (noObjects) {
    errors.push(noObjects);
    report.notes.push('the objects parameter lists no objects: a mount of this class fails, on either door, because the driver refuses a mount without object versions');
  }
  validateSecretObjects(spec['secretObjects'], validated === undefined ? undefined : new Set(report.files), errors);
  const repeated = repeatedSecretNames(spec['secretObjects']);
  if (repeated.length > 0) {
    report.notes.push(`secretObjects name ${repeated.map((n) => JSON.stringify(n)).join(', ')} more than once: only the last such entry's data ends up in the Secret, as with the upstream driver`);
  }
  report.ok = errors.length === 0;
  return report;
}
