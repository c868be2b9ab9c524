/**
 * STS (awsQuery, form-encoded POST, XML answers): AssumeRoleWithWebIdentity, the IRSA door, which
 * exchanges a service-account token for role credentials without a signature, exactly as real STS
 * allows; and GetCallerIdentity (signed), handy to check which session a client runs as.
 */
import { AwsApiError, awsError } from './aws-error.js';
import { roleId, sessionArn, type CredentialRegistry, type Principal } from './credentials.js';
import type { IssuerRegistry, TokenCheck } from './jwt-verify.js';
import type { PolicyRegistry } from './policy.js';

export const STS_AUDIENCE = 'sts.amazonaws.com';

export interface StsDeps {
  issuers: IssuerRegistry;
  policy: PolicyRegistry;
  credentials: CredentialRegistry;
  accountId: string;
  credentialTtlSeconds: number;
}

const SESSION_NAME = /^[\w+=,.@-]*$/;
/** arnType of the STS model: 20 to 2048 characters. */
const ROLE_ARN_LENGTH = { min: 20, max: 2048 };
/** Only a role can be assumed; any other ARN (a user, an OIDC provider) is "invalid" to STS. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d+:role\/.+$/;
const MIN_DURATION = 900;
const MAX_DURATION = 43_200;

/**
 * STS is an awsQuery service and names signature failures its own way: the codes the JSON services
 * use (sigv4-verify.ts) become InvalidClientTokenId, SignatureDoesNotMatch and ExpiredToken (403),
 * IncompleteSignature (400, AWS's common errors), and an unsigned call is 403
 * MissingAuthenticationToken "Request is missing Authentication Token" (the JSON services' 400
 * "Missing Authentication Token" is not what STS says), so a caller's `err.name`, status and message
 * are what real STS gives it. A `message` here replaces the JSON services' wording.
 */
const STS_AUTH_ERRORS: Readonly<Record<string, { code: string; status: number; message?: string }>> = {
  UnrecognizedClientException: { code: 'InvalidClientTokenId', status: 403 },
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', status: 403 },
  ExpiredTokenException: { code: 'ExpiredToken', status: 403 },
  IncompleteSignatureException: { code: 'IncompleteSignature', status: 400 },
  MissingAuthenticationTokenException: { code: 'MissingAuthenticationToken', status: 403, message: 'Request is missing Authentication Token' },
};

/** A signature check's failure as STS reports it; anything else unchanged. */
export function asStsAuthError(err: unknown): unknown {
  if (!(err instanceof AwsApiError)) return err;
  const sts = Object.hasOwn(STS_AUTH_ERRORS, err.code) ? STS_AUTH_ERRORS[err.code] : undefined;
  return sts === undefined ? err : awsError(sts.code, sts.message ?? err.message, sts.status);
}

/**
 * A token STS will not accept, as STS words it. When the issuer's keys cannot be fetched, real STS
 * answers InvalidIdentityToken with this text (seen in aws/aws-cli#7194 and awslabs/aws-sdk-rust#827
 * during issuer outages), not IDPCommunicationError.
 */
function tokenError(check: TokenCheck & { ok: false }): AwsApiError {
  if (check.problem === 'expired') return awsError('ExpiredTokenException', check.message);
  if (check.problem === 'issuer-keys-unavailable') {
    return awsError('InvalidIdentityToken', "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements");
  }
  return awsError('InvalidIdentityToken', check.message);
}

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === '') {
    throw awsError('ValidationError', `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

/**
 * STS words each bound on its own and quotes the value, e.g. "Value '600' at 'durationSeconds'
 * failed to satisfy constraint: Member must have value greater than or equal to 900"
 * (goldstack/goldstack#425).
 */
function durationOf(params: URLSearchParams, fallback: number): number {
  const raw = params.get('DurationSeconds');
  if (raw === null) return fallback;
  const seconds = Number(raw);
  let rule: string | undefined;
  if (!Number.isInteger(seconds)) rule = `have value between ${MIN_DURATION} and ${MAX_DURATION}`; // SDKs only send integers
  else if (seconds < MIN_DURATION) rule = `have value greater than or equal to ${MIN_DURATION}`;
  else if (seconds > MAX_DURATION) rule = `have value less than or equal to ${MAX_DURATION}`;
  if (rule !== undefined) {
    throw awsError('ValidationError', `1 validation error detected: Value '${raw}' at 'durationSeconds' failed to satisfy constraint: Member must ${rule}`);
  }
  return seconds;
}

/**
 * The model's length bound on RoleArn, worded as STS words it ("Value '' at 'roleArn' failed to
 * satisfy constraint: Member must have length greater than or equal to 20", mmmorris1975/aws-runas#80).
 */
function assertRoleArnLength(roleArn: string): void {
  const { min, max } = ROLE_ARN_LENGTH;
  if (roleArn.length < min || roleArn.length > max) {
    const bound = roleArn.length < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`;
    throw awsError('ValidationError', `1 validation error detected: Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length ${bound}`);
  }
}

/**
 * Returns the members of `AssumeRoleWithWebIdentityResult`. `verified` hears the token's subject
 * once the token has passed verification, even if the call is then refused, so it is counted under
 * the service account that made it.
 */
export async function assumeRoleWithWebIdentity(
  deps: StsDeps,
  params: URLSearchParams,
  verified: (subject: string) => void = () => undefined,
): Promise<Record<string, unknown>> {
  const roleArn = required(params, 'RoleArn');
  const sessionName = required(params, 'RoleSessionName');
  const token = required(params, 'WebIdentityToken');
  assertRoleArnLength(roleArn);
  // STS checks the length (2-64) and the pattern separately, each with its own message.
  if (sessionName.length < 2 || sessionName.length > 64) {
    const bound = sessionName.length < 2 ? 'greater than or equal to 2' : 'less than or equal to 64';
    throw awsError('ValidationError', `1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must have length ${bound}`);
  }
  if (!SESSION_NAME.test(sessionName)) {
    throw awsError('ValidationError', "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*");
  }
  const ttl = durationOf(params, deps.credentialTtlSeconds);
  // Before the token is looked at: anything but a role ARN (a user, an OIDC provider) is a 400
  // ValidationError "Request ARN is invalid" (crossplane-contrib/provider-aws#517, seen with IRSA).
  // A well-formed ARN of a role that does not exist or does not trust the token is AccessDenied below.
  if (!ROLE_ARN.test(roleArn)) throw awsError('ValidationError', 'Request ARN is invalid');

  const check = await deps.issuers.verify(token, STS_AUDIENCE);
  if (!check.ok) throw tokenError(check);
  verified(check.token.subject);
  const role = deps.policy.getRole(roleArn);
  if (role === undefined || !deps.policy.trusts(role, check.token)) {
    throw awsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403);
  }
  // Only an asked-for duration is held against the role; without one STS issues its default hour.
  if (params.get('DurationSeconds') !== null && ttl > deps.policy.maxSessionSeconds(role)) {
    throw awsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  const principal: Principal & { kind: 'role' } = {
    kind: 'role',
    roleArn,
    subject: check.token.subject,
    sessionName,
    accountId: deps.accountId,
  };
  const issued = deps.credentials.issue(principal, ttl);
  return {
    Credentials: {
      AccessKeyId: issued.accessKeyId,
      SecretAccessKey: issued.secretAccessKey,
      SessionToken: issued.sessionToken,
      Expiration: new Date(issued.expiresAt).toISOString(),
    },
    SubjectFromWebIdentityToken: check.token.subject,
    AssumedRoleUser: { AssumedRoleId: `${roleId(roleArn)}:${sessionName}`, Arn: sessionArn(principal) },
    Provider: `arn:aws:iam::${deps.accountId}:oidc-provider/${check.token.issuer.replace(/^https?:\/\//, '')}`,
    Audience: check.token.audience,
  };
}

export function getCallerIdentity(principal: Principal, accountId: string): Record<string, unknown> {
  if (principal.kind === 'admin') {
    return { UserId: 'AIDAEMULATORADMIN', Account: accountId, Arn: `arn:aws:iam::${accountId}:user/emulator-admin` };
  }
  return { UserId: `${roleId(principal.roleArn)}:${principal.sessionName}`, Account: accountId, Arn: sessionArn(principal) };
}
