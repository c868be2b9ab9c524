/**
 * SSM Parameter Store's name rules and the errors it answers when a name breaks one, apart from the
 * store so the reads (GetParameter) and the write (PutParameter) apply the same rules.
 *
 * The wording comes from what SSM answers: the one long ValidationException text below is what both
 * GetParameter and PutParameter return for a name with a character outside `a-zA-Z0-9_.-/`, a space,
 * a path without its leading slash, or an `ssm` prefix (aws-sdk-js-v3#5005, boto3#1499,
 * aws-sdk-php#1952, localstack#7712). A write under the reserved `aws` prefix is refused with
 * AccessDeniedException "No access to reserved parameter name: …" (aws-solutions/quota-monitor-for-aws#30,
 * cfn-lint#4089), while reads of `/aws/...` names stay allowed: AWS's public parameters live there.
 */
import { awsError } from './aws-error.js';

export const INVALID_NAME_MESSAGE =
  'Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_';

const NAME_CHARS = /^[a-zA-Z0-9_.\-/]+$/;
/** The model's bound on the Name member; the service's own limit below is tighter. */
const MODEL_MAX_LENGTH = 2048;
/**
 * PutParameter reference: a name may be 1011 characters, counting the ARN part before it
 * (`arn:aws:ssm:us-east-2:111122223333:parameter/` is 45 of them).
 */
const MAX_ARN_LENGTH = 1011;
/** PutParameter reference: hierarchies are limited to a depth of fifteen levels, the name included. */
const MAX_LEVELS = 15;

function bare(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}

/** The rules every GetParameter(s)/PutParameter name obeys: characters, leading slash of a path, no `ssm` prefix. */
export function assertReadableName(name: string): void {
  const wellFormed = NAME_CHARS.test(name) && (name.startsWith('/') || !name.includes('/')) && !/^ssm/i.test(bare(name));
  if (!wellFormed) throw awsError('ValidationException', INVALID_NAME_MESSAGE);
}

/** PutParameter's rules: the read rules plus the model length, the reserved prefix, depth and length with the ARN. */
export function assertWritableName(name: string, arn: string): void {
  if (name.length > MODEL_MAX_LENGTH) {
    throw awsError(
      'ValidationException',
      `1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length less than or equal to ${MODEL_MAX_LENGTH}`,
    );
  }
  assertReadableName(name);
  if (/^aws/i.test(bare(name))) throw awsError('AccessDeniedException', `No access to reserved parameter name: ${bare(name)}.`);
  if (bare(name).split('/').length > MAX_LEVELS) {
    throw awsError(
      'HierarchyLevelLimitExceededException',
      `A hierarchy can have a maximum of ${MAX_LEVELS} levels. For more information, see Requirements and constraints for parameter names in the Amazon Web Services Systems Manager User Guide.`,
    );
  }
  if (arn.length > MAX_ARN_LENGTH) {
    throw awsError(
      'ValidationException',
      `Parameter name: the name and the ARN part before it (${arn.slice(0, arn.length - bare(name).length)}) can have at most ${MAX_ARN_LENGTH} characters together; this one has ${arn.length}.`,
    );
  }
}
