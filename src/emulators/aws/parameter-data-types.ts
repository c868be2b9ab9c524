/**
 * PutParameter's DataType. The emulator stores `text` parameters only: AWS checks the other data
 * types against things the emulator does not have (an `aws:ec2:image` value must name an AMI
 * available in the account, checked asynchronously after a 200, per the PutParameter reference),
 * so accepting them would pretend to a check that never happens. They are refused with a message
 * that says so; a value AWS does not know at all is refused too. Both texts are the emulator's
 * own: AWS's wording for an unknown data type is not documented.
 */
import { awsError } from './aws-error.js';

/** The values the PutParameter reference (SDK model of @aws-sdk/client-ssm 3.1169) lists. */
const AWS_DATA_TYPES: readonly string[] = [
  'text',
  'aws:ec2:image',
  'aws:ssm:integration',
  'aws:region',
  'aws:account:id',
  'boolean',
  'integer',
  'float',
  'binary',
  'hostname',
  'email',
  'ipv4-address',
  'ipv6-address',
  'url',
  'json',
  'jsonc',
];

export const TEXT = 'text';

export function assertEmulatedDataType(dataType: string | undefined): void {
  if (dataType === undefined || dataType === TEXT) return;
  if (AWS_DATA_TYPES.includes(dataType)) {
    throw awsError('ValidationException', `DataType ${dataType} exists in AWS but is not emulated by this endpoint, which stores text parameters only.`);
  }
  throw awsError('ValidationException', `DataType ${dataType} is not a data type of Parameter Store. The data types are: ${AWS_DATA_TYPES.join(', ')}.`);
}
