/**
 * The answer to an operation the emulator does not handle. AWS's own code stays (awsJson
 * `UnknownOperationException`, awsQuery `InvalidAction`), so code that branches on it behaves as
 * against AWS; but when the operation is a real one of the service, the message says it exists in
 * AWS and is not emulated here, and names what is, so nobody goes hunting for a bug in their SDK or
 * endpoint. Whether an operation is real is read from the SDK client of that service (an operation
 * `X` is a `XCommand` export), loaded only on this rare path.
 */
import { awsError, type AwsApiError } from './aws-error.js';

export type EmulatedService = 'secretsmanager' | 'ssm' | 'sts';

const LABELS: Record<EmulatedService, string> = {
  secretsmanager: 'Secrets Manager',
  ssm: 'Systems Manager (SSM)',
  sts: 'STS',
};

async function sdkModule(service: EmulatedService): Promise<Record<string, unknown>> {
  if (service === 'secretsmanager') return (await import('@aws-sdk/client-secrets-manager')) as Record<string, unknown>;
  if (service === 'ssm') return (await import('@aws-sdk/client-ssm')) as Record<string, unknown>;
  return (await import('@aws-sdk/client-sts')) as Record<string, unknown>;
}

/** Whether `action` is an operation of the service in AWS. */
export async function existsInAws(service: EmulatedService, action: string): Promise<boolean> {
  if (!/^[A-Z][A-Za-z0-9]*$/.test(action)) return false;
  const sdk = await sdkModule(service);
  return Object.hasOwn(sdk, `${action}Command`) && typeof sdk[`${action}Command`] === 'function';
}

/**
 * The refusal of an operation no handler takes. `unknown` is the message AWS gives for a name it
 * does not know, used when the SDK does not know it either.
 */
export async function notEmulated(
  service: EmulatedService,
  action: string,
  emulated: readonly string[],
  refusal: { code: string; unknown: string },
): Promise<AwsApiError> {
  if (!(await existsInAws(service, action))) return awsError(refusal.code, refusal.unknown);
  const label = LABELS[service];
  return awsError(
    refusal.code,
    `${action} is an AWS ${label} operation, but this endpoint is secretlet's local AWS emulator and does not emulate it. Emulated ${label} operations: ${emulated.join(', ')}.`,
  );
}
