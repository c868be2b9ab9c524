/**
 * The checks the driver makes on a SecretProviderClass object itself before any provider work
 * (driver.md §1.5 steps 13–14), shared by the kubelet door and `secretlet validate` so both give the
 * same error. The code is UNKNOWN because that is what the upstream driver returns for them; the
 * reason and field say precisely what is wrong.
 */
import { SecretletError } from '../errors.js';

export function providerProblem(ref: string, provider: string): SecretletError | undefined {
  if (provider === '') {
    return new SecretletError({ code: 'UNKNOWN', reason: 'ProviderNotSet', field: 'spec.provider', message: `provider not set in ${ref}` });
  }
  if (provider !== 'aws') {
    return new SecretletError({
      code: 'UNKNOWN',
      reason: 'ProviderNotFound',
      field: 'spec.provider',
      message: `provider not found: provider "${provider}" (secretlet serves provider "aws")`,
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
