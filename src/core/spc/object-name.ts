/**
 * Object names and types: ARN parsing as the AWS SDK does it, `validateObjectName` in ASCP's order
 * with its texts (aws-provider.md §6.2), and the object type a descriptor resolves to (§5).
 */
import type { ObjectType } from '../model.js';

export interface Arn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  resource: string;
}

/** "ARN" means the exact, case-sensitive prefix `arn:`. */
export function isArn(name: string): boolean {
  return name.startsWith('arn:');
}

/** aws-sdk-go `arn.Parse`: six `:`-separated sections, the last may contain `:`; empty ones allowed. */
export function parseArn(name: string): Arn | undefined {
  if (!isArn(name)) return undefined;
  const parts = name.split(':');
  if (parts.length < 6) return undefined;
  const [, partition = '', service = '', region = '', accountId = ''] = parts;
  return { partition, service, region, accountId, resource: parts.slice(5).join(':') };
}

const VALID_TYPES = new Set(['secretsmanager', 'ssmparameter', 'ssm']);

/** Go `GetSecretType`: `secretsmanager` → Secrets Manager; anything else (ssm, ssmparameter, …) → SSM. */
function typeFromString(value: string): ObjectType {
  return value === 'secretsmanager' ? 'secretsmanager' : 'ssmparameter';
}

/** The type a descriptor resolves to: its `objectType`, else the ARN's service. */
export function resolveObjectType(objectName: string, objectType: string): ObjectType {
  if (objectType !== '') return typeFromString(objectType);
  return typeFromString(parseArn(objectName)?.service ?? '');
}

/** Which field an object-name problem is about, so the validator can name it. */
export type ObjectNameProblemField = 'objectName' | 'objectType';

export interface ObjectNameProblem {
  reason: string;
  message: string;
  field: ObjectNameProblemField;
}

/**
 * ASCP `validateObjectName(name, objectType, region)`. `region` undefined means "not known"
 * (offline validation without a region): the ARN-region check is skipped.
 */
export function checkObjectName(name: string, objectType: string, region: string | undefined): ObjectNameProblem | undefined {
  const arn = isArn(name);
  const parsed = parseArn(name);
  if (arn && parsed === undefined) {
    return { reason: 'InvalidArn', message: `Invalid ARN format in object name: ${name}`, field: 'objectName' };
  }
  if (parsed !== undefined && region !== undefined && parsed.region !== region) {
    return { reason: 'ArnRegionMismatch', message: `ARN region must match region ${region}: ${name}`, field: 'objectName' };
  }
  if (objectType === '' && !arn) {
    return { reason: 'ObjectTypeRequired', message: `Must use objectType when a full ARN is not specified: ${name}`, field: 'objectType' };
  }
  if (objectType === '' && parsed !== undefined && !VALID_TYPES.has(parsed.service)) {
    return { reason: 'InvalidArnService', message: `Invalid service in ARN: ${parsed.service}`, field: 'objectName' };
  }
  if (objectType !== '' && (!VALID_TYPES.has(objectType) || objectType === 'ssm')) {
    return { reason: 'InvalidObjectType', message: `Invalid objectType: ${objectType}`, field: 'objectType' };
  }
  if (objectType !== '' && parsed !== undefined && typeFromString(objectType) !== typeFromString(parsed.service)) {
    return { reason: 'ObjectTypeMismatch', message: `objectType does not match ARN: ${name}`, field: 'objectType' };
  }
  return undefined;
}
