/**
 * The SSM Parameter Store API (awsJson1_1, `X-Amz-Target: AmazonSSM.<Action>`): PutParameter,
 * DeleteParameter, LabelParameterVersion, GetParameter and GetParameters with `name:version` /
 * `name:label` / ARN selectors. GetParameters answers names that do not resolve in
 * `InvalidParameters` inside a 200, sorts `Parameters` by name, and refuses the whole call if one
 * name is not allowed (as IAM does). GetParameter refuses a malformed name with ValidationException;
 * GetParameters keeps listing such a name in `InvalidParameters`, as no reference says otherwise.
 */
import { createHash } from 'node:crypto';
import { awsError } from './aws-error.js';
import { epochSeconds, type JsonBody } from './json-input.js';
import { assertEmulatedDataType, TEXT } from './parameter-data-types.js';
import { assertReadableName } from './parameter-names.js';
import type { ParameterRecord, ParameterRef, ParameterStore, ParameterVersion } from './parameter-store.js';
import { parseTier } from './parameter-tiers.js';
import { denied, type PolicyRegistry } from './policy.js';
import type { JsonHandler, ServiceCall } from './secrets-manager-read.js';
import type { ParameterType } from './types.js';

export interface SsmDeps {
  store: ParameterStore;
  policy: PolicyRegistry;
}

const MAX_NAMES = 10;

/** Code-unit order, like the service's sort (not locale-aware). */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What SSM returns for a SecureString read without decryption: opaque, never the value. */
function ciphertextOf(value: string): string {
  return Buffer.concat([Buffer.from('AQICAHemulator'), createHash('sha256').update(value).digest()]).toString('base64');
}

function parameterEntry(
  record: ParameterRecord,
  version: ParameterVersion,
  options: { selector?: string; withDecryption: boolean },
): JsonBody {
  const hidden = version.type === 'SecureString' && !options.withDecryption;
  return {
    Name: record.name,
    Type: version.type,
    Value: hidden ? ciphertextOf(version.value) : version.value,
    Version: version.version,
    ...(options.selector === undefined ? {} : { Selector: `:${options.selector}` }),
    LastModifiedDate: epochSeconds(version.lastModifiedDate),
    ARN: record.arn,
    DataType: TEXT,
  };
}

export function ssmHandlers(deps: SsmDeps): Record<string, JsonHandler> {
  const { store, policy } = deps;

  const checkRead = (call: ServiceCall, action: string, raw: string, ref: ParameterRef | undefined): void => {
    const name = ref?.name ?? raw;
    if (!policy.canReadParameter(call.principal, name)) {
      throw denied(call.principal, action, ref === undefined ? raw : store.arnOf(call.region, name));
    }
  };

  return {
    PutParameter(call) {
      const name = call.input.string('Name');
      policy.assertAdmin(call.principal, 'ssm:PutParameter', store.arnOf(call.region, name));
      const type = call.input.optionalString('Type') as ParameterType | undefined;
      const tier = parseTier(call.input.optionalString('Tier'));
      assertEmulatedDataType(call.input.optionalString('DataType'));
      const { version, tier: stored } = store.put({
        region: call.region,
        name,
        // An empty Value goes on to the store's length rule; only a missing one is refused as null.
        value: call.input.optionalString('Value') ?? call.input.string('Value'),
        ...(type === undefined ? {} : { type }),
        ...(tier === undefined ? {} : { tier }),
        overwrite: call.input.optionalBoolean('Overwrite') ?? false,
      });
      return { Version: version.version, Tier: stored };
    },

    DeleteParameter(call) {
      const name = call.input.string('Name');
      policy.assertAdmin(call.principal, 'ssm:DeleteParameter', store.arnOf(call.region, name));
      // AWS answers a missing parameter with an empty message, as GetParameter does.
      if (!store.delete(call.region, name)) throw awsError('ParameterNotFound', '');
      return {};
    },

    LabelParameterVersion(call) {
      const name = call.input.string('Name');
      policy.assertAdmin(call.principal, 'ssm:LabelParameterVersion', store.arnOf(call.region, name));
      const labels = call.input.optionalStringList('Labels');
      if (labels === undefined || labels.length < 1 || labels.length > 10) {
        throw awsError('ValidationException', "1 validation error detected: Value at 'labels' failed to satisfy constraint: Member must have length between 1 and 10");
      }
      const version = call.input.optionalNumber('ParameterVersion');
      const result = store.label({ region: call.region, name, labels, ...(version === undefined ? {} : { version }) });
      return { InvalidLabels: result.invalid, ParameterVersion: result.version };
    },

    GetParameter(call) {
      const raw = call.input.string('Name');
      const ref = store.parseRef(call.region, raw);
      if (ref !== undefined) assertReadableName(ref.name);
      checkRead(call, 'ssm:GetParameter', raw, ref);
      const resolved = ref === undefined ? undefined : store.resolve(call.region, ref);
      if (ref === undefined || resolved === undefined) {
        if (ref?.selector !== undefined && /^[0-9]+$/.test(ref.selector) && store.get(call.region, ref.name) !== undefined) {
          throw awsError('ParameterVersionNotFound', `Systems Manager could not find version ${ref.selector} of ${ref.name}.`);
        }
        throw awsError('ParameterNotFound', '');
      }
      const withDecryption = call.input.optionalBoolean('WithDecryption') ?? false;
      return {
        Parameter: parameterEntry(resolved.record, resolved.version, {
          withDecryption,
          ...(ref.selector === undefined ? {} : { selector: ref.selector }),
        }),
      };
    },

    GetParameters(call) {
      const names = call.input.optionalStringList('Names');
      if (names === undefined || names.length < 1 || names.length > MAX_NAMES) {
        throw awsError(
          'ValidationException',
          `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and ${MAX_NAMES}`,
        );
      }
      const withDecryption = call.input.optionalBoolean('WithDecryption') ?? false;
      const unique = [...new Set(names)];
      const refs = unique.map((raw) => ({ raw, ref: store.parseRef(call.region, raw) }));
      for (const { raw, ref } of refs) checkRead(call, 'ssm:GetParameters', raw, ref);

      const parameters: JsonBody[] = [];
      const invalid: string[] = [];
      for (const { raw, ref } of refs) {
        const resolved = ref === undefined ? undefined : store.resolve(call.region, ref);
        if (ref === undefined || resolved === undefined) {
          invalid.push(raw);
          continue;
        }
        parameters.push(
          parameterEntry(resolved.record, resolved.version, {
            withDecryption,
            ...(ref.selector === undefined ? {} : { selector: ref.selector }),
          }),
        );
      }
      parameters.sort((a, b) => byName(String(a.Name), String(b.Name)));
      return { Parameters: parameters, InvalidParameters: invalid };
    },
  };
}
