/**
 * Public shapes of the AWS emulator: its options, the role/policy model, seeds and the handle that
 * `startAwsEmulator` returns. Kept apart from the implementation so callers (the CLI, tests, demos)
 * depend on a small, stable surface.
 */
import type { JsonWebKey } from 'node:crypto';

/** Options of `startAwsEmulator`. Every field is optional; defaults are documented per field. */
export interface AwsEmulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (a random free port) */
  port?: number;
  /** Account of every ARN the emulator issues. @default '111122223333' */
  accountId?: string;
  /** Delay added before every response, simulating a round trip. @default 0 */
  latencyMs?: number;
  /** Action (or `A+B` for a bucket shared by several actions) → calls per second. @default {} (off) */
  rateLimits?: Partial<Record<string, number>>;
  /** Long-term credentials that may call every action (seeding through the real SDK). */
  adminCredentials?: { accessKeyId: string; secretAccessKey: string };
  /** Lifetime of credentials issued by STS (without DurationSeconds) and by pod identity. @default 3600 */
  credentialTtlSeconds?: number;
  /** Clock of the emulated world: credential expiry, token `exp`, signature skew, token buckets. @default Date.now */
  now?: () => number;
  /** How the latency is waited for; tests inject a recorder. @default a setTimeout promise */
  delay?: (ms: number) => Promise<void>;
}

/** An OIDC issuer whose tokens STS and pod identity accept, with its keys inline or at a JWKS URL. */
export interface TrustedIssuer {
  issuer: string;
  jwks: { keys: JsonWebKey[] };
}
export interface TrustedIssuerByUri {
  issuer: string;
  jwksUri: string;
}

/** One service account a role trusts (for AssumeRoleWithWebIdentity). `*` globs are allowed. */
export interface RoleTrust {
  namespace: string;
  serviceAccount: string;
  /** Only tokens from this issuer; any trusted issuer when absent. */
  issuer?: string;
}

/** What a role may read. Globs use `*` (any run of characters, `/` included) like IAM resources. */
export interface RolePermissions {
  /** Secret name or ARN globs readable with GetSecretValue / DescribeSecret. */
  secrets?: string[];
  /** SSM parameter name globs readable with GetParameter(s). */
  parameters?: string[];
  /** `secretsmanager:BatchGetSecretValue` on `*`. @default false */
  batchGetSecretValue?: boolean;
  /** `secretsmanager:ListSecrets` on `*`, which a BatchGetSecretValue call with `Filters` also needs. @default false */
  listSecrets?: boolean;
}

export interface RoleSpec {
  roleArn: string;
  trust: RoleTrust[];
  allow: RolePermissions;
  /**
   * The role's MaxSessionDuration: an AssumeRoleWithWebIdentity asking for a longer DurationSeconds
   * is refused. IAM allows 3600-43200. @default 3600
   */
  maxSessionDurationSeconds?: number;
}

export interface PodIdentityAssociation {
  namespace: string;
  serviceAccount: string;
  roleArn: string;
}

/**
 * `throttle` and `unavailable` fail whole calls; `decryption` fails reading a secret's value, as
 * when KMS cannot decrypt it (Secrets Manager's `DecryptionFailure`).
 */
export type FaultKind = 'throttle' | 'unavailable' | 'decryption';

/**
 * A scripted failure: the next `count` calls (of `action`, in `region`) fail with `kind`. For
 * `decryption`, `count` counts secret values not decrypted (a batch may use several).
 */
export interface FaultSpec {
  /** Any action when absent. `decryption` takes only GetSecretValue or BatchGetSecretValue. */
  action?: string;
  /** Any region when absent. */
  region?: string;
  kind: FaultKind;
  /** Only with `decryption`: the secret (name or ARN) that cannot be decrypted. Any secret when absent. */
  secretId?: string;
  /** How many calls (secret values, for `decryption`) fail. @default unlimited (until `faults.clear()`) */
  count?: number;
}

/** How a call ended, as counted. `denied` = AccessDenied, `error` = any other failure. */
export type CallOutcome = 'ok' | 'throttled' | 'unavailable' | 'denied' | 'error';

export interface CallFilter {
  action?: string;
  identity?: string;
  outcome?: CallOutcome;
  region?: string;
}

export interface CallCounters {
  /** Action → calls. */
  byAction(): Record<string, number>;
  /** Identity (`system:serviceaccount:ns:sa`, `admin`, `anonymous`) → action → calls. */
  byIdentity(): Record<string, Record<string, number>>;
  /** Outcome → calls. */
  byOutcome(): Record<string, number>;
  /** Calls matching every given field. */
  count(filter?: CallFilter): number;
  total(): number;
  reset(): void;
}

export interface FaultInjector {
  inject(fault: FaultSpec): void;
  clear(): void;
}

export interface SeedSecretVersion {
  string?: string;
  binaryBase64?: string;
  versionId?: string;
  /** @default ['AWSCURRENT'] */
  stages?: string[];
}

export interface SeedSecret {
  name: string;
  region?: string;
  string?: string;
  binaryBase64?: string;
  description?: string;
  /** Versions in creation order; each becomes AWSCURRENT unless it names its stages. */
  versions?: SeedSecretVersion[];
}

export interface SeedParameter {
  name: string;
  region?: string;
  value: string;
  /** @default 'String' */
  type?: ParameterType;
  /** Labels attached to the version this entry creates. */
  labels?: string[];
}

/** Everything a demo needs, in one document (YAML or JSON file, or a plain object). */
export interface AwsSeed {
  /** Region of entries that do not name one. @default 'us-east-1' */
  region?: string;
  trustedIssuers?: Array<TrustedIssuer | TrustedIssuerByUri>;
  roles?: RoleSpec[];
  podIdentityAssociations?: PodIdentityAssociation[];
  secrets?: SeedSecret[];
  parameters?: SeedParameter[];
}

export type ParameterType = 'String' | 'SecureString' | 'StringList';

export interface AwsEmulator {
  /** `http://127.0.0.1:<port>`: the endpoint of Secrets Manager, SSM and STS. */
  readonly url: string;
  /** `${url}/v1/credentials`: the EKS Pod Identity agent endpoint. */
  readonly podIdentityUrl: string;
  readonly accountId: string;
  readonly adminCredentials: { accessKeyId: string; secretAccessKey: string };
  trustIssuer(issuer: TrustedIssuer | TrustedIssuerByUri): Promise<void>;
  /** Creates the role, or replaces it whole (trust, permissions, session limit) if it exists. */
  addRole(role: RoleSpec): void;
  /**
   * Creates the role, or adds to the existing one: its trust entries join the role's trust list and
   * its permissions join the role's (globs are unioned, a `true` flag stays `true`). An existing
   * `maxSessionDurationSeconds` is kept unless this one sets it. For several service accounts that
   * share one role, as IAM roles trusted by many service accounts do.
   */
  mergeRole(role: RoleSpec): void;
  addPodIdentityAssociation(association: PodIdentityAssociation): void;
  /** Creates the secret or adds a version that becomes AWSCURRENT (the old one AWSPREVIOUS). */
  putSecret(secret: {
    name: string;
    region: string;
    string?: string;
    binary?: Uint8Array;
    /** The secret's description (DescribeSecret, the `description` and `all` filters); replaces an existing one when given. */
    description?: string;
    /** The new version's id (ClientRequestToken). @default a random UUID */
    versionId?: string;
    /** Staging labels of the new version. @default ['AWSCURRENT'] */
    stages?: string[];
  }): {
    arn: string;
    versionId: string;
  };
  /** Creates the parameter or adds a version (overwrite). */
  putParameter(parameter: { name: string; region: string; value: string; type?: ParameterType }): { version: number };
  labelParameter(label: { name: string; region: string; version: number; labels: string[] }): void;
  readonly counters: CallCounters;
  readonly faults: FaultInjector;
  setLatency(ms: number): void;
  setRateLimit(action: string, perSecond: number | undefined): void;
  stop(): Promise<void>;
}
