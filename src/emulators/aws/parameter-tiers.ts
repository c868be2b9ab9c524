/**
 * Parameter tiers and value sizes, as PutParameter applies them: which tier a write lands in, and
 * how long its value may be there.
 *
 * From the PutParameter reference and AWS's answers: a standard parameter holds 4 KB and an advanced
 * one 8 KB; `Intelligent-Tiering` picks advanced only when it is needed (here: a value over 4 KB);
 * a parameter can move up to advanced but never back down. The two refusals quoted below are AWS's
 * own texts (aws-sdk-net#3157 and terraform-aws-github-runner#3815 for the 4 KB one, the
 * terraform-provider-aws SSM parameter resource for the downgrade one). Not verified against AWS:
 * the 8 KB refusal's wording, the order of the tier enum in its refusal, and that a write without
 * Tier keeps an advanced parameter advanced (AWS applies the account's default tier setting, which
 * this emulator does not model).
 */
import { awsError } from './aws-error.js';

export type ParameterTier = 'Standard' | 'Advanced' | 'Intelligent-Tiering';
/** The tier a parameter is stored in; Intelligent-Tiering is a request, never a stored tier. */
export type StoredTier = 'Standard' | 'Advanced';

const TIERS: readonly string[] = ['Standard', 'Advanced', 'Intelligent-Tiering'];
const STANDARD_MAX = 4096;
const ADVANCED_MAX = 8192;
/** The model's bound on the Value member, checked before any tier rule. */
const MODEL_MAX = 32_768;

export function parseTier(raw: string | undefined): ParameterTier | undefined {
  if (raw === undefined || TIERS.includes(raw)) return raw as ParameterTier | undefined;
  throw awsError(
    'ValidationException',
    `1 validation error detected: Value '${raw}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]`,
  );
}

/** The model's length bounds on Value (seen in AWS's answers: 1 and 32768), values never quoted. */
export function assertValueLength(value: string): void {
  const rule = value.length === 0 ? 'greater than or equal to 1' : value.length > MODEL_MAX ? `less than or equal to ${MODEL_MAX}` : undefined;
  if (rule !== undefined) {
    throw awsError('ValidationException', `1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length ${rule}`);
  }
}

/** The tier a write lands in, given the tier asked for and the parameter's current one, or a refusal. */
export function resolveTier(requested: ParameterTier | undefined, current: StoredTier | undefined, value: string): StoredTier {
  let tier: StoredTier;
  if (requested === 'Advanced') tier = 'Advanced';
  else if (requested === 'Intelligent-Tiering') tier = current === 'Advanced' || value.length > STANDARD_MAX ? 'Advanced' : 'Standard';
  else if (requested === 'Standard' && current === 'Advanced') {
    throw awsError(
      'ValidationException',
      "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
    );
  } else tier = current ?? 'Standard';

  if (tier === 'Standard' && value.length > STANDARD_MAX) {
    throw awsError(
      'ValidationException',
      `Standard tier parameters support a maximum parameter value of ${STANDARD_MAX} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html`,
    );
  }
  if (tier === 'Advanced' && value.length > ADVANCED_MAX) {
    throw awsError('ValidationException', `Advanced tier parameters support a maximum parameter value of ${ADVANCED_MAX} characters.`);
  }
  return tier;
}
