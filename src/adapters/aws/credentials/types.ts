/**
 * The credential vocabulary shared by the cache and the two ways of getting credentials (IRSA via STS,
 * EKS Pod Identity via the node agent). Credentials are held in memory only and never logged.
 */
import type { AuthMode, AwsIdentity } from '../../../core/model.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Epoch milliseconds after which the credentials are no longer valid. */
  expiresAt: number;
}

/** What, besides (mode, namespace, service account), decides which credentials an identity gets. */
export interface CredentialScope {
  /** Goes into the cache key, e.g. the role ARN and region for IRSA. */
  key: string;
  roleArn?: string;
}

export interface ObtainRequest {
  identity: AwsIdentity;
  region: string;
  scope: CredentialScope;
  /** The token to present; the caller has already checked that it names `identity`. */
  token: string;
}

/** One way of turning a pod's service-account token into AWS credentials. */
export interface CredentialProvider {
  readonly mode: AuthMode;
  /** Throws a SecretletError (FAILED_PRECONDITION) when the identity cannot have credentials at all. */
  scope(identity: AwsIdentity, region: string): Promise<CredentialScope>;
  obtain(request: ObtainRequest): Promise<AwsCredentials>;
}
