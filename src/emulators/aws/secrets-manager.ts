/**
 * The Secrets Manager API (awsJson1_1, `X-Amz-Target: secretsmanager.<Action>`): the actions the
 * agent reads with and the ones demos write with, over the secret store and the policy. Responses
 * carry the same members as real Secrets Manager, so SDK clients deserialize them unchanged.
 */
import { awsError } from './aws-error.js';
import { assertLength, epochSeconds, type JsonInput } from './json-input.js';
import { SECRET_NOT_FOUND, type SecretRecord, type SecretValue } from './secret-store.js';
import { batchGetSecretValue } from './secrets-manager-batch.js';
import {
  readSecretValue,
  resolveReadable,
  type JsonHandler,
  type SecretsManagerDeps,
  type ServiceCall,
} from './secrets-manager-read.js';

function adminRecord(deps: SecretsManagerDeps, call: ServiceCall, action: string): SecretRecord {
  const secretId = call.input.string('SecretId');
  deps.policy.assertAdmin(call.principal, action, secretId);
  const record = deps.store.resolve(call.region, secretId);
  if (record === undefined) throw awsError('ResourceNotFoundException', SECRET_NOT_FOUND);
  return record;
}

/**
 * Length bounds of the API model (Secrets Manager API reference): a version id or client request
 * token is 32-64 characters, a description at most 2048, a secret value at most 65,536.
 */
const VERSION_ID_BOUNDS = { min: 32, max: 64 };
const DESCRIPTION_BOUNDS = { max: 2048 };
const SECRET_VALUE_BOUNDS = { max: 65_536 };

function valueFrom(input: JsonInput): SecretValue | undefined {
  const string = input.optionalBoundedString('SecretString', SECRET_VALUE_BOUNDS);
  const binary = input.optionalBlob('SecretBinary');
  if (binary !== undefined) assertLength('SecretBinary', binary.length, SECRET_VALUE_BOUNDS);
  if (string !== undefined && binary !== undefined) {
    throw awsError('InvalidParameterException', "You can't specify both a binary secret value and a string secret value in the same secret.");
  }
  if (string !== undefined) return { string };
  if (binary !== undefined) return { binary };
  return undefined;
}

export function secretsManagerHandlers(deps: SecretsManagerDeps): Record<string, JsonHandler> {
  const { store } = deps;
  return {
    CreateSecret(call) {
      const name = call.input.string('Name');
      deps.policy.assertAdmin(call.principal, 'secretsmanager:CreateSecret', name);
      const value = valueFrom(call.input);
      const versionId = call.input.optionalBoundedString('ClientRequestToken', VERSION_ID_BOUNDS);
      const description = call.input.optionalBoundedString('Description', DESCRIPTION_BOUNDS);
      const record = store.create({ region: call.region, name, ...(description === undefined ? {} : { description }) });
      const version =
        value === undefined ? undefined : store.putValue(record, { value, ...(versionId === undefined ? {} : { versionId }) });
      return { ARN: record.arn, Name: record.name, ...(version === undefined ? {} : { VersionId: version.versionId }) };
    },

    PutSecretValue(call) {
      const record = adminRecord(deps, call, 'secretsmanager:PutSecretValue');
      const value = valueFrom(call.input);
      if (value === undefined) throw awsError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
      const versionId = call.input.optionalBoundedString('ClientRequestToken', VERSION_ID_BOUNDS);
      const stages = call.input.optionalStringList('VersionStages');
      const version = store.putValue(record, {
        value,
        ...(versionId === undefined ? {} : { versionId }),
        ...(stages === undefined ? {} : { stages }),
      });
      return { ARN: record.arn, Name: record.name, VersionId: version.versionId, VersionStages: [...version.stages] };
    },

    UpdateSecretVersionStage(call) {
      const record = adminRecord(deps, call, 'secretsmanager:UpdateSecretVersionStage');
      const moveTo = call.input.optionalBoundedString('MoveToVersionId', VERSION_ID_BOUNDS);
      const removeFrom = call.input.optionalBoundedString('RemoveFromVersionId', VERSION_ID_BOUNDS);
      store.updateStage(record, {
        stage: call.input.string('VersionStage'),
        ...(moveTo === undefined ? {} : { moveToVersionId: moveTo }),
        ...(removeFrom === undefined ? {} : { removeFromVersionId: removeFrom }),
      });
      return { ARN: record.arn, Name: record.name };
    },

    DeleteSecret(call) {
      const record = adminRecord(deps, call, 'secretsmanager:DeleteSecret');
      const force = call.input.optionalBoolean('ForceDeleteWithoutRecovery') ?? false;
      const recoveryDays = call.input.optionalNumber('RecoveryWindowInDays');
      if (force && recoveryDays !== undefined) {
        throw awsError('InvalidParameterException', "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
      }
      if (recoveryDays !== undefined && (recoveryDays < 7 || recoveryDays > 30)) {
        throw awsError('InvalidParameterException', 'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
      }
      const deletionDate = store.delete(record, { force, ...(recoveryDays === undefined ? {} : { recoveryDays }) });
      return { ARN: record.arn, Name: record.name, DeletionDate: epochSeconds(deletionDate) };
    },

    /** Cancels a scheduled deletion; the secret and its versions are readable again. */
    RestoreSecret(call) {
      const record = adminRecord(deps, call, 'secretsmanager:RestoreSecret');
      store.restore(record);
      return { ARN: record.arn, Name: record.name };
    },

    DescribeSecret(call) {
      const record = resolveReadable(deps, call, call.input.string('SecretId'), 'secretsmanager:DescribeSecret');
      const versionIdsToStages: Record<string, string[]> = {};
      // Versions without a staging label are deprecated and not listed, as in AWS.
      for (const v of record.versions.values()) if (v.stages.size > 0) versionIdsToStages[v.versionId] = [...v.stages];
      return {
        ARN: record.arn,
        Name: record.name,
        ...(record.description === undefined ? {} : { Description: record.description }),
        CreatedDate: epochSeconds(record.createdDate),
        LastChangedDate: epochSeconds(record.lastChangedDate),
        ...(record.deletedDate === undefined ? {} : { DeletedDate: epochSeconds(record.deletedDate) }),
        VersionIdsToStages: versionIdsToStages,
      };
    },

    GetSecretValue(call) {
      const versionId = call.input.optionalBoundedString('VersionId', VERSION_ID_BOUNDS);
      const stage = call.input.optionalString('VersionStage');
      return readSecretValue(deps, call, {
        action: 'GetSecretValue',
        secretId: call.input.string('SecretId'),
        ...(versionId === undefined ? {} : { versionId }),
        ...(stage === undefined ? {} : { stage }),
      });
    },

    BatchGetSecretValue(call) {
      return batchGetSecretValue(deps, call);
    },
  };
}
