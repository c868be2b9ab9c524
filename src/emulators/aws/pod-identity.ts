/**
 * The EKS Pod Identity agent: `GET /v1/credentials` with the pod's service-account token (audience
 * `pods.eks.amazonaws.com`) as the raw `Authorization` header. The token's service account selects a
 * pod identity association, whose role the returned credentials act as. The answer is the container
 * credentials JSON the SDK's `fromHttp` / `fromContainerMetadata` providers read.
 */
import { awsError, type AwsApiError } from './aws-error.js';
import type { CredentialRegistry } from './credentials.js';
import type { IssuerRegistry } from './jwt-verify.js';
import type { PolicyRegistry } from './policy.js';

export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';
export const POD_IDENTITY_PATH = '/v1/credentials';

/** The agent's answer when it cannot serve credentials through no fault of the caller. */
export function credentialsServiceUnavailable(): AwsApiError {
  return awsError('ServiceUnavailableException', 'The credentials service is unavailable.', 500);
}

export interface PodIdentityDeps {
  issuers: IssuerRegistry;
  policy: PolicyRegistry;
  credentials: CredentialRegistry;
  accountId: string;
  credentialTtlSeconds: number;
}

/** `verified` hears the token's subject once it has passed verification (for counting who called). */
export async function podIdentityCredentials(
  deps: PodIdentityDeps,
  token: string | undefined,
  verified: (subject: string) => void = () => undefined,
): Promise<Record<string, unknown>> {
  if (token === undefined || token.trim() === '') {
    throw awsError('InvalidTokenException', 'Service account token cannot be empty');
  }
  const check = await deps.issuers.verify(token, POD_IDENTITY_AUDIENCE);
  if (!check.ok) {
    // The issuer's keys being out of reach is the service's failure, not a bad token.
    if (check.problem === 'issuer-keys-unavailable') throw credentialsServiceUnavailable();
    throw check.problem === 'expired'
      ? awsError('ExpiredTokenException', check.message)
      : awsError('InvalidTokenException', `Service account token is invalid: ${check.message}`);
  }
  const { namespace, serviceAccount, subject } = check.token;
  verified(subject);
  const association = deps.policy.associationFor(namespace, serviceAccount);
  if (association === undefined || deps.policy.getRole(association.roleArn) === undefined) {
    throw awsError('AccessDeniedException', `No pod identity association allows service account ${namespace}/${serviceAccount} to assume a role.`, 403);
  }
  const issued = deps.credentials.issue(
    {
      kind: 'role',
      roleArn: association.roleArn,
      subject,
      sessionName: `eks-emulator-${serviceAccount}`.slice(0, 64),
      accountId: deps.accountId,
    },
    deps.credentialTtlSeconds,
  );
  return {
    AccessKeyId: issued.accessKeyId,
    SecretAccessKey: issued.secretAccessKey,
    Token: issued.sessionToken,
    AccountId: deps.accountId,
    Expiration: new Date(issued.expiresAt).toISOString(),
  };
}
