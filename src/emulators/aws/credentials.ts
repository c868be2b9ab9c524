/**
 * Credentials the emulator hands out (STS sessions, pod identity) and the admin pair, keyed by
 * access key id. The SigV4 verifier looks callers up here: a request is only as trusted as the
 * credentials it was signed with, exactly as with real AWS.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Who a verified request acts as. */
export type Principal =
  | { kind: 'admin' }
  | { kind: 'role'; roleArn: string; subject: string; sessionName: string; accountId: string };

export interface CredentialRecord {
  accessKeyId: string;
  secretAccessKey: string;
  /** Absent for the long-term admin pair. */
  sessionToken?: string;
  /** Epoch ms; absent for the admin pair. */
  expiresAt?: number;
  principal: Principal;
}

export const DEFAULT_ADMIN_CREDENTIALS = {
  accessKeyId: 'AKIAEMULATORADMIN000',
  secretAccessKey: 'emulator/admin/secret/access/key/EXAMPLE0',
} as const;

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomKeyId(prefix: string): string {
  return prefix + [...randomBytes(16)].map((b) => KEY_ALPHABET[b % KEY_ALPHABET.length]).join('');
}

/** The counted identity of a principal: the service account subject, or `admin`. */
export function identityOf(principal: Principal): string {
  return principal.kind === 'admin' ? 'admin' : principal.subject;
}

/** `arn:aws:sts::<acct>:assumed-role/<role name>/<session>`, as IAM names the caller in denials. */
export function sessionArn(principal: Principal & { kind: 'role' }): string {
  const roleName = principal.roleArn.split('/').at(-1) ?? principal.roleArn;
  return `arn:aws:sts::${principal.accountId}:assumed-role/${roleName}/${principal.sessionName}`;
}

const ROLE_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * The role's unique id as IAM shows it (`AROA` + 17 upper-case letters and digits). IAM gives each
 * role its own stable id; deriving it from the ARN keeps it stable across sessions and restarts.
 * AssumedRoleId and GetCallerIdentity's UserId are both `<role id>:<session>`.
 */
export function roleId(roleArn: string): string {
  const digest = createHash('sha256').update(roleArn).digest();
  return `AROA${[...digest.subarray(0, 17)].map((b) => ROLE_ID_ALPHABET[b % ROLE_ID_ALPHABET.length]).join('')}`;
}

/** Sessions expired for longer than this are forgotten, so long demos do not grow without bound. */
const PRUNE_AFTER_MS = 86_400_000;
/** How many forgotten sessions are still recognized as expired; the oldest are dropped first. */
const MAX_TOMBSTONES = 10_000;

export class CredentialRegistry {
  readonly #byKey = new Map<string, CredentialRecord>();
  /**
   * Access key id → expiry of a pruned session. Only these two facts are kept (no secret, no session
   * token): enough for a late caller to keep hearing ExpiredTokenException, as AWS says for any
   * expired session however old, instead of "the security token … is invalid".
   */
  readonly #tombstones = new Map<string, number>();
  readonly #now: () => number;

  constructor(options: { now: () => number; admin: { accessKeyId: string; secretAccessKey: string } }) {
    this.#now = options.now;
    this.#byKey.set(options.admin.accessKeyId, { ...options.admin, principal: { kind: 'admin' } });
  }

  /** Mints temporary credentials (ASIA…) for a role session. */
  issue(principal: Principal & { kind: 'role' }, ttlSeconds: number): Required<CredentialRecord> {
    this.#prune();
    const record: Required<CredentialRecord> = {
      accessKeyId: randomKeyId('ASIA'),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJemulator${randomBytes(96).toString('base64')}`,
      expiresAt: this.#now() + ttlSeconds * 1000,
      principal,
    };
    this.#byKey.set(record.accessKeyId, record);
    return record;
  }

  lookup(accessKeyId: string): CredentialRecord | undefined {
    return this.#byKey.get(accessKeyId);
  }

  /** The expiry of a session that was pruned, if `accessKeyId` named one. */
  prunedExpiry(accessKeyId: string): number | undefined {
    return this.#tombstones.get(accessKeyId);
  }

  #prune(): void {
    const horizon = this.#now() - PRUNE_AFTER_MS;
    for (const [key, record] of this.#byKey) {
      if (record.expiresAt !== undefined && record.expiresAt < horizon) {
        this.#byKey.delete(key);
        this.#tombstones.set(key, record.expiresAt);
      }
    }
    // Maps iterate in insertion order, so the first keys are the longest-forgotten sessions.
    for (const key of this.#tombstones.keys()) {
      if (this.#tombstones.size <= MAX_TOMBSTONES) break;
      this.#tombstones.delete(key);
    }
  }
}
