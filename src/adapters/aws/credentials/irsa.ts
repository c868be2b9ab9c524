/**
 * IRSA: the role comes from the service account's `eks.amazonaws.com/role-arn` annotation and the
 * pod's token (audience `sts.amazonaws.com`) is exchanged with a regional STS
 * `AssumeRoleWithWebIdentity` call. The credential cache calls this once per role, identity and region
 * per credential lifetime instead of once per mount.
 */
import { createHash } from 'node:crypto';
import type { AssumeRoleWithWebIdentityCommandInput, AssumeRoleWithWebIdentityCommandOutput } from '@aws-sdk/client-sts';
import { SecretletError } from '../../../core/errors.js';
import type { AwsIdentity } from '../../../core/model.js';
import type { ServiceAccountDirectory } from '../ports.js';
import type { TokenBucket } from '../rate-budget.js';
import { callWithRetries } from '../retry.js';
import type { RetryPolicy } from '../retry.js';
import type { AwsCredentials, CredentialProvider, CredentialScope, ObtainRequest } from './types.js';

/** The one STS call IRSA needs, so tests can use a fake instead of the SDK. */
export interface StsApi {
  assumeRoleWithWebIdentity(input: AssumeRoleWithWebIdentityCommandInput): Promise<AssumeRoleWithWebIdentityCommandOutput>;
}

export interface IrsaCredentialProviderOptions {
  serviceAccounts: ServiceAccountDirectory;
  stsFor: (region: string) => StsApi;
  retry: RetryPolicy;
  budget: TokenBucket;
}

const SESSION_NAME_MAX = 64;

/**
 * A RoleSessionName that shows up in CloudTrail as `secretlet-<namespace>-<sa>`: only the characters
 * STS allows (`[\w+=,.@-]`), at most 64 long; a long name is cut and ends in a short hash so that two
 * long names stay distinct.
 */
export function roleSessionName(namespace: string, serviceAccount: string): string {
  const raw = `secretlet-${namespace}-${serviceAccount}`;
  const clean = raw.replace(/[^\w+=,.@-]/g, '_');
  if (clean.length <= SESSION_NAME_MAX) return clean;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  return `${clean.slice(0, SESSION_NAME_MAX - hash.length - 1)}-${hash}`;
}

export class IrsaCredentialProvider implements CredentialProvider {
  readonly mode = 'irsa' as const;
  readonly #options: IrsaCredentialProviderOptions;

  constructor(options: IrsaCredentialProviderOptions) {
    this.#options = options;
  }

  async scope(identity: AwsIdentity, region: string): Promise<CredentialScope> {
    const roleArn = await this.#options.serviceAccounts.roleArnOf(identity.namespace, identity.serviceAccount);
    if (roleArn === undefined || roleArn === '') {
      throw new SecretletError({
        code: 'FAILED_PRECONDITION',
        reason: 'IamRoleMissing',
        message: `An IAM role must be associated with service account ${identity.serviceAccount} (namespace: ${identity.namespace})`,
      });
    }
    return { key: `${roleArn}|${region}`, roleArn };
  }

  async obtain(request: ObtainRequest): Promise<AwsCredentials> {
    const { identity, region, scope } = request;
    const roleArn = scope.roleArn ?? '';
    const sts = this.#options.stsFor(region);
    const out = await callWithRetries(
      this.#options.retry,
      { action: 'AssumeRoleWithWebIdentity', region, objectId: roleArn },
      async () => {
        await this.#options.budget.take();
        return sts.assumeRoleWithWebIdentity({
          RoleArn: roleArn,
          RoleSessionName: roleSessionName(identity.namespace, identity.serviceAccount),
          WebIdentityToken: request.token,
        });
      },
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.Expiration) {
      throw new SecretletError({
        code: 'UNAVAILABLE',
        reason: 'InvalidStsResponse',
        message: `AssumeRoleWithWebIdentity of ${roleArn} in ${region} returned no credentials`,
      });
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken === undefined ? {} : { sessionToken: c.SessionToken }),
      expiresAt: new Date(c.Expiration).getTime(),
    };
  }
}
