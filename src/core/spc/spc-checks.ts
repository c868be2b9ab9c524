/**
 * The checks the driver makes on a SecretProviderClass object itself before any provider work
 * (driver.md §1.5 steps 13–14), shared by the kubelet door and `secretlet validate` so both give the
 * same error. The code is UNKNOWN because that is what the upstream driver returns for them; the
 * reason and field say precisely what is wrong.
 */
import { SecretletError } from '../errors.js';
import type { ObjectDescriptor } from '../model.js';

/** The provider names the driver looks a plugin socket up for. */
const PROVIDER_NAME = /^[a-zA-Z0-9_-]{0,30}$/;

export function providerProblem(ref: string, provider: string): SecretletError | undefined {
  if (provider === '') {
    return new SecretletError({ code: 'UNKNOWN', reason: 'ProviderNotSet', field: 'spec.provider', message: `provider not set in ${ref}` });
  }
  if (provider !== 'aws') {
    // The driver's words when it finds no plugin socket for the provider (driver.md §2.2): secretlet
    // is the driver, and serves provider "aws" only.
    const problem = PROVIDER_NAME.test(provider) ? `provider not found: provider "${provider}"` : `invalid provider: provider "${provider}"`;
    return new SecretletError({
      code: 'UNKNOWN',
      reason: 'ProviderNotFound',
      field: 'spec.provider',
      message: `error connecting to provider "${provider}": ${problem}`,
    });
  }
  return undefined;
}

export function parametersProblem(ref: string, parameters: Record<string, unknown> | undefined): SecretletError | undefined {
  if (parameters === undefined || Object.keys(parameters).length === 0) {
    return new SecretletError({ code: 'UNKNOWN', reason: 'ParametersNotSet', field: 'spec.parameters', message: `parameters not set in ${ref}` });
  }
  return undefined;
}

/**
 * A class with no objects (`objects: ""`, `[]`, `null`) validates, and ASCP answers its Mount with no
 * object versions, which the driver refuses (driver.md §2.4 step 3): upstream the pod never starts
 * on an empty volume. The kubelet door refuses it the same way, before it mounts anything.
 */
export function noObjectsProblem(objects: readonly ObjectDescriptor[]): SecretletError | undefined {
  if (objects.length > 0) return undefined;
  return new SecretletError({ code: 'INVALID_ARGUMENT', reason: 'MissingObjectVersions', field: 'objects', message: 'missing object versions' });
}
