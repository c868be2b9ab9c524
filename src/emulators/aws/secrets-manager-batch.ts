/**
 * BatchGetSecretValue: up to 20 secrets by id, or a filtered, paginated listing. Partial failure is
 * not an exception: a secret that is missing or not readable becomes an `Errors[]` entry
 * `{SecretId, ErrorCode, Message}` beside the `SecretValues[]` that succeeded, as in AWS.
 * The whole call needs `secretsmanager:BatchGetSecretValue`.
 */
import { AwsApiError, awsError } from './aws-error.js';
import type { JsonBody } from './json-input.js';
import { denied } from './policy.js';
import type { SecretRecord } from './secret-store.js';
import { readSecretValue, type SecretsManagerDeps, type ServiceCall } from './secrets-manager-read.js';

const MAX_IDS = 20;
const MAX_FILTERS = 10;
const FILTER_KEYS = new Set(['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all']);

interface Filter {
  key: string;
  values: string[];
}

function parseFilters(raw: unknown[]): Filter[] {
  if (raw.length > MAX_FILTERS) throw awsError('InvalidParameterException', `You can specify up to ${MAX_FILTERS} filters.`);
  return raw.map((f, i) => {
    const { Key, Values } = (f ?? {}) as { Key?: unknown; Values?: unknown };
    if (typeof Key !== 'string' || !FILTER_KEYS.has(Key)) {
      throw awsError('InvalidParameterException', `Filters[${i}].Key must be one of ${[...FILTER_KEYS].join(', ')}.`);
    }
    const values = Array.isArray(Values) ? Values.filter((v): v is string => typeof v === 'string') : [];
    return { key: Key, values };
  });
}

/** Filter values are prefixes; a leading `!` negates. Values of one filter OR, filters AND. */
function matches(record: SecretRecord, filters: Filter[]): boolean {
  return filters.every((f) =>
    f.values.some((raw) => {
      const negate = raw.startsWith('!');
      const value = negate ? raw.slice(1) : raw;
      let fields: string[];
      if (f.key === 'name') fields = [record.name];
      else if (f.key === 'description') fields = [record.description ?? ''];
      else if (f.key === 'all') fields = [record.name, record.description ?? ''];
      else if (f.key === 'primary-region') fields = [record.region];
      else fields = []; // the emulator keeps no tags and no owning services
      const hit = fields.some((field) => field.startsWith(value));
      return negate ? !hit : hit;
    }),
  );
}

function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const offset = Number(Buffer.from(token, 'base64url').toString('utf8'));
  if (!Number.isInteger(offset) || offset < 0) throw awsError('InvalidNextTokenException', 'The NextToken value is invalid.');
  return offset;
}

export function batchGetSecretValue(deps: SecretsManagerDeps, call: ServiceCall): JsonBody {
  if (!deps.policy.canBatchGetSecretValue(call.principal)) {
    throw denied(call.principal, 'secretsmanager:BatchGetSecretValue', '*');
  }
  const ids = call.input.optionalStringList('SecretIdList');
  const rawFilters = call.input.optionalList('Filters');
  const maxResults = call.input.optionalNumber('MaxResults');
  if ((ids === undefined) === (rawFilters === undefined)) {
    throw awsError('InvalidParameterException', 'You must specify either SecretIdList or Filters, but not both.');
  }

  let requested: string[];
  let nextToken: string | undefined;
  if (ids !== undefined) {
    if (ids.length < 1 || ids.length > MAX_IDS) {
      throw awsError('InvalidParameterException', `SecretIdList must contain between 1 and ${MAX_IDS} secret ids.`);
    }
    if (maxResults !== undefined) throw awsError('InvalidParameterException', 'MaxResults can only be used with Filters.');
    requested = ids;
  } else {
    // IAM authorizes a filtered call as a listing too (the BatchGetSecretValue reference's required permissions).
    if (!deps.policy.canListSecrets(call.principal)) throw denied(call.principal, 'secretsmanager:ListSecrets', '*');
    const filters = parseFilters(rawFilters ?? []);
    const pageSize = maxResults ?? MAX_IDS;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_IDS) {
      throw awsError('InvalidParameterException', `MaxResults must be between 1 and ${MAX_IDS}.`);
    }
    const listed = deps.store
      .list(call.region)
      .filter((r) => r.deletedDate === undefined && matches(r, filters))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const offset = decodeToken(call.input.optionalString('NextToken'));
    requested = listed.slice(offset, offset + pageSize).map((r) => r.arn);
    if (offset + pageSize < listed.length) nextToken = Buffer.from(String(offset + pageSize)).toString('base64url');
  }

  const secretValues: JsonBody[] = [];
  const errors: JsonBody[] = [];
  for (const secretId of requested) {
    try {
      secretValues.push(readSecretValue(deps, call, { secretId }));
    } catch (err) {
      if (!(err instanceof AwsApiError)) throw err;
      errors.push({ SecretId: secretId, ErrorCode: err.code, Message: err.message });
    }
  }
  return { SecretValues: secretValues, Errors: errors, ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
}
