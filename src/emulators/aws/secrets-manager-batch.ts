/**
 * BatchGetSecretValue: up to 20 secrets by id, or a filtered, paginated listing. Partial failure is
 * not an exception: a secret that is missing or not readable becomes an `Errors[]` entry
 * `{SecretId, ErrorCode, Message}` beside the `SecretValues[]` that succeeded, as in AWS.
 * The whole call needs `secretsmanager:BatchGetSecretValue`.
 */
import { AwsApiError, awsError } from './aws-error.js';
import { serializationError, type JsonBody } from './json-input.js';
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

/** Filter.Values as the API model constrains them: 1-10 items, each at most 512 characters of this set. */
const MAX_FILTER_VALUES = 10;
const MAX_FILTER_VALUE_LENGTH = 512;
const FILTER_VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;

function parseFilters(raw: unknown[]): Filter[] {
  if (raw.length > MAX_FILTERS) throw awsError('InvalidParameterException', `You can specify up to ${MAX_FILTERS} filters.`);
  return raw.map((f, i) => {
    // Wrong JSON types fail deserialization, before the service validates anything.
    if (typeof f !== 'object' || f === null || Array.isArray(f)) throw serializationError(`Member Filters[${i}] must be a structure.`);
    const { Key, Values } = f as { Key?: unknown; Values?: unknown };
    if (Key !== undefined && Key !== null && typeof Key !== 'string') throw serializationError(`Member Filters[${i}].Key must be a string.`);
    const wellTypedValues = Values === undefined || Values === null || (Array.isArray(Values) && Values.every((v) => typeof v === 'string'));
    if (!wellTypedValues) throw serializationError(`Member Filters[${i}].Values must be a list of strings.`);
    if (typeof Key !== 'string' || !FILTER_KEYS.has(Key)) {
      throw awsError('InvalidParameterException', `Filters[${i}].Key must be one of ${[...FILTER_KEYS].join(', ')}.`);
    }
    const values = (Values ?? []) as string[];
    const field = `filters.${i + 1}.member.values`;
    if (values.length < 1 || values.length > MAX_FILTER_VALUES) {
      throw awsError('ValidationException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length between 1 and ${MAX_FILTER_VALUES}`);
    }
    for (const v of values) {
      if (v.length > MAX_FILTER_VALUE_LENGTH || !FILTER_VALUE.test(v)) {
        throw awsError('ValidationException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${MAX_FILTER_VALUE_LENGTH} and satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$`);
      }
    }
    return { key: Key, values };
  });
}

/**
 * The words of a search string, as the console search splits them (AWS's "Find secrets" guide): runs
 * of letters or digits, split where a letter meets a digit and where lower case turns to upper case.
 */
function searchWords(text: string): string[] {
  return text.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? [];
}

/**
 * Whether one filter value (without its `!`) matches a secret, per the Filter reference: `name` and
 * `primary-region` are case-sensitive prefixes, `description` a prefix in any case, `all` any word of
 * the value starting any word of the name or description, in any case. The emulator keeps no tags and
 * no owning services, so those keys match nothing.
 */
function filterHit(record: SecretRecord, key: string, value: string): boolean {
  if (key === 'name') return record.name.startsWith(value);
  if (key === 'primary-region') return record.region.startsWith(value);
  if (key === 'description') return (record.description ?? '').toLowerCase().startsWith(value.toLowerCase());
  if (key === 'all') {
    const words = [...searchWords(record.name), ...searchWords(record.description ?? '')].map((w) => w.toLowerCase());
    return searchWords(value).some((q) => words.some((w) => w.startsWith(q.toLowerCase())));
  }
  return false;
}

/** A leading `!` negates a value. Values of one filter OR, filters AND. */
function matches(record: SecretRecord, filters: Filter[]): boolean {
  return filters.every((f) =>
    f.values.some((raw) => {
      const negate = raw.startsWith('!');
      const hit = filterHit(record, f.key, negate ? raw.slice(1) : raw);
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
      secretValues.push(readSecretValue(deps, call, { action: 'BatchGetSecretValue', secretId }));
    } catch (err) {
      if (!(err instanceof AwsApiError)) throw err;
      errors.push({ SecretId: secretId, ErrorCode: err.code, Message: err.message });
    }
  }
  return { SecretValues: secretValues, Errors: errors, ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
}
