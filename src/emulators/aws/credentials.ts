/**
 * Credentials the emulator hands out (STS sessions, pod identity) and the admin pair, keyed by
 * access key id. The SigV4 verifier looks callers up here: a request is only as trusted as the
 * credentials it was signed with, exactly as with real AWS.
 */
import { randomBytes } from 'node:crypto';

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

export class CredentialRegistry {
  readonly #byKey = new Map<string, CredentialRecord>();
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

  /** Forgets sessions expired for over a day, so long demos do not grow without bound. */
  #prune(): void {
    const horizon = this.#now() - 86_400_000;
    for (const [key, record] of this.#byKey) {
      if (record.expiresAt !== undefined && record.expiresAt < horizon) this.#byKey.delete(key);
    }
  }
}
