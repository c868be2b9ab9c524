/**
 * The read path of Secrets Manager, shared by GetSecretValue, DescribeSecret and each entry of
 * BatchGetSecretValue: resolve the SecretId, check IAM, pick the version, shape the response entry.
 */
import { awsError } from './aws-error.js';
import type { Principal } from './credentials.js';
import { epochSeconds, type JsonBody, type JsonInput } from './json-input.js';
import type { FaultPlan } from './faults.js';
import { denied, type PolicyRegistry } from './policy.js';
import { SECRET_NOT_FOUND, type SecretRecord, type SecretStore, type SecretVersion } from './secret-store.js';

export interface ServiceCall {
  principal: Principal;
  region: string;
  input: JsonInput;
}

export interface SecretsManagerDeps {
  store: SecretStore;
  policy: PolicyRegistry;
  /** Scripted decryption failures; none when absent. */
  faults?: Pick<FaultPlan, 'takeDecryption'>;
}

/** The model's text for DecryptionFailure (KMS could not decrypt the value); never the value itself. */
const DECRYPTION_FAILURE = "Secrets Manager can't decrypt the protected secret text using the provided KMS key.";

export type JsonHandler = (call: ServiceCall) => JsonBody;

/**
 * The read path shared by GetSecretValue and each BatchGetSecretValue entry (`action` says which,
 * for scripted faults). Decryption comes last, as in AWS: only a permitted, existing version is
 * decrypted, so a decryption fault never hides AccessDenied or ResourceNotFound.
 */
export function readSecretValue(
  deps: SecretsManagerDeps,
  call: { principal: Principal; region: string },
  request: { action: 'GetSecretValue' | 'BatchGetSecretValue'; secretId: string; versionId?: string; stage?: string },
): JsonBody {
  const record = resolveReadable(deps, call, request.secretId, 'secretsmanager:GetSecretValue');
  const version = deps.store.getVersion(record, {
    ...(request.versionId === undefined ? {} : { versionId: request.versionId }),
    ...(request.stage === undefined ? {} : { stage: request.stage }),
  });
  if (deps.faults?.takeDecryption(request.action, call.region, [record.name, record.arn]) === true) {
    throw awsError('DecryptionFailure', DECRYPTION_FAILURE);
  }
  return secretValueEntry(record, version);
}

export function secretValueEntry(record: SecretRecord, version: SecretVersion): JsonBody {
  return {
    ARN: record.arn,
    Name: record.name,
    VersionId: version.versionId,
    ...(version.string !== undefined ? { SecretString: version.string } : {}),
    ...(version.binary !== undefined ? { SecretBinary: Buffer.from(version.binary).toString('base64') } : {}),
    VersionStages: [...version.stages],
    CreatedDate: epochSeconds(version.createdDate),
  };
}

/**
 * Resolves a secret the caller may read. IAM is evaluated before the lookup, as in AWS: a caller
 * without permission learns nothing (AccessDenied), one with permission learns it does not exist.
 */
export function resolveReadable(
  deps: SecretsManagerDeps,
  call: { principal: Principal; region: string },
  secretId: string,
  action: string,
): SecretRecord {
  const record = deps.store.resolve(call.region, secretId);
  const ids = record === undefined ? [secretId, nameFromArn(secretId)] : [record.name, record.arn];
  if (!deps.policy.canReadSecret(call.principal, ids)) throw denied(call.principal, action, record?.arn ?? secretId);
  if (record === undefined) throw awsError('ResourceNotFoundException', SECRET_NOT_FOUND);
  return record;
}

function nameFromArn(id: string): string {
  return id.startsWith('arn:') ? id.split(':').slice(6).join(':') : id;
}
