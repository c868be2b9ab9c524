/**
 * The Secrets Manager data model of the emulator: secrets per region, their versions and staging
 * labels, with the same rules real Secrets Manager applies (AWSCURRENT moves and leaves AWSPREVIOUS
 * behind, ARNs end in a 6-character random suffix, partial ARNs resolve, scheduled deletion).
 * Protocol-free: the Secrets Manager door turns JSON into these calls and AwsApiErrors into wire errors.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { awsError } from './aws-error.js';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';

export interface SecretValue {
  string?: string;
  binary?: Uint8Array;
}

export interface SecretVersion extends SecretValue {
  readonly versionId: string;
  readonly createdDate: number;
  readonly stages: Set<string>;
}

export interface SecretRecord {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  description?: string;
  readonly createdDate: number;
  lastChangedDate: number;
  /** Set when deletion is scheduled; the secret disappears `recoveryDays` later. */
  deletedDate?: number;
  /**
   * When a scheduled deletion purges the secret (deletedDate + recovery window). Kept on the record
   * rather than in a side table, so a purged or force-deleted secret leaves nothing behind.
   */
  purgeDate?: number;
  /** Insertion order = creation order. */
  readonly versions: Map<string, SecretVersion>;
}

const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DAY_MS = 86_400_000;

export const SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret.";

function randomSuffix(): string {
  return [...randomBytes(6)].map((b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join('');
}

function sameValue(a: SecretValue, b: SecretValue): boolean {
  if (a.string !== undefined || b.string !== undefined) return a.string === b.string;
  return a.binary !== undefined && b.binary !== undefined && Buffer.from(a.binary).equals(Buffer.from(b.binary));
}

export class SecretStore {
  readonly #byRegion = new Map<string, Map<string, SecretRecord>>();
  readonly #accountId: string;
  readonly #now: () => number;

  constructor(options: { accountId: string; now: () => number }) {
    this.#accountId = options.accountId;
    this.#now = options.now;
  }

  #region(region: string): Map<string, SecretRecord> {
    let secrets = this.#byRegion.get(region);
    if (secrets === undefined) {
      secrets = new Map();
      this.#byRegion.set(region, secrets);
    }
    return secrets;
  }

  /** Secrets of a region, deleted ones purged once their recovery window has passed. */
  list(region: string): SecretRecord[] {
    const secrets = this.#region(region);
    const now = this.#now();
    for (const [name, record] of secrets) {
      if (record.purgeDate !== undefined && record.purgeDate <= now) secrets.delete(name);
    }
    return [...secrets.values()];
  }

  /** Resolves a SecretId (name, full ARN, or partial ARN without the random suffix). */
  resolve(region: string, secretId: string): SecretRecord | undefined {
    this.list(region); // purges expired deletions first
    const secrets = this.#region(region);
    if (!secretId.startsWith('arn:')) return secrets.get(secretId);
    const parts = secretId.split(':');
    if (parts.length < 7 || parts[2] !== 'secretsmanager' || parts[5] !== 'secret') return undefined;
    if (parts[3] !== region || parts[4] !== this.#accountId) return undefined;
    const rest = parts.slice(6).join(':');
    const partial = secrets.get(rest);
    if (partial !== undefined) return partial;
    for (const record of secrets.values()) if (record.arn === secretId) return record;
    return undefined;
  }

  create(options: { region: string; name: string; description?: string }): SecretRecord {
    const { region, name } = options;
    if (!NAME_PATTERN.test(name)) {
      throw awsError('InvalidParameterException', 'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    }
    const existing = this.resolve(region, name);
    if (existing !== undefined) {
      if (existing.deletedDate !== undefined) {
        throw awsError('InvalidRequestException', "You can't create this secret because a secret with this name is already scheduled for deletion.");
      }
      throw awsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    const now = this.#now();
    const record: SecretRecord = {
      name,
      region,
      arn: `arn:aws:secretsmanager:${region}:${this.#accountId}:secret:${name}-${randomSuffix()}`,
      createdDate: now,
      lastChangedDate: now,
      versions: new Map(),
      ...(options.description === undefined ? {} : { description: options.description }),
    };
    this.#region(region).set(name, record);
    return record;
  }

  /**
   * Adds a version (PutSecretValue semantics). A repeated `versionId` with the same value is an
   * idempotent retry; with a different value it is refused, as versions are immutable.
   */
  putValue(record: SecretRecord, options: { value: SecretValue; versionId?: string; stages?: string[] }): SecretVersion {
    assertNotDeleted(record);
    const versionId = options.versionId ?? randomUUID();
    const existing = record.versions.get(versionId);
    if (existing !== undefined) {
      if (sameValue(existing, options.value)) return existing;
      throw awsError('ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
    }
    const version: SecretVersion = { versionId, createdDate: this.#now(), stages: new Set(), ...options.value };
    record.versions.set(versionId, version);
    for (const stage of options.stages ?? [AWSCURRENT]) this.#attach(record, stage, version);
    record.lastChangedDate = this.#now();
    return version;
  }

  /** Moves `stage` onto `version`, leaving AWSPREVIOUS on the version that loses AWSCURRENT. */
  #attach(record: SecretRecord, stage: string, version: SecretVersion): void {
    const holder = [...record.versions.values()].find((v) => v.stages.has(stage));
    if (holder === version) return;
    holder?.stages.delete(stage);
    version.stages.add(stage);
    if (stage === AWSCURRENT && holder !== undefined) {
      for (const v of record.versions.values()) v.stages.delete(AWSPREVIOUS);
      holder.stages.add(AWSPREVIOUS);
    }
  }

  /** UpdateSecretVersionStage semantics. */
  updateStage(record: SecretRecord, options: { stage: string; moveToVersionId?: string; removeFromVersionId?: string }): void {
    assertNotDeleted(record);
    const { stage, moveToVersionId, removeFromVersionId } = options;
    const holder = [...record.versions.values()].find((v) => v.stages.has(stage));
    if (removeFromVersionId !== undefined && holder?.versionId !== removeFromVersionId) {
      throw awsError('InvalidParameterException', `The staging label ${stage} is not attached to version ${removeFromVersionId}.`);
    }
    if (moveToVersionId === undefined) {
      if (removeFromVersionId === undefined) {
        throw awsError('InvalidParameterException', 'You must specify MoveToVersionId or RemoveFromVersionId.');
      }
      if (stage === AWSCURRENT) {
        throw awsError('InvalidParameterException', "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.");
      }
      holder?.stages.delete(stage);
    } else {
      const target = record.versions.get(moveToVersionId);
      if (target === undefined) {
        throw awsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret version: ${moveToVersionId}.`);
      }
      if (holder !== undefined && holder !== target && removeFromVersionId === undefined) {
        throw awsError(
          'InvalidParameterException',
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      this.#attach(record, stage, target);
    }
    record.lastChangedDate = this.#now();
  }

  /** The version a read asks for; AWSCURRENT when neither id nor stage is given. */
  getVersion(record: SecretRecord, options: { versionId?: string; stage?: string }): SecretVersion {
    assertNotDeleted(record);
    const { versionId } = options;
    const stage = options.stage ?? (versionId === undefined ? AWSCURRENT : undefined);
    if (versionId !== undefined) {
      const version = record.versions.get(versionId);
      if (version === undefined || (stage !== undefined && !version.stages.has(stage))) {
        throw awsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
      }
      return version;
    }
    const version = [...record.versions.values()].find((v) => stage !== undefined && v.stages.has(stage));
    if (version === undefined) {
      throw awsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${stage}`);
    }
    return version;
  }

  /** RestoreSecret: cancels a scheduled deletion (a secret not scheduled for deletion stays as it is). */
  restore(record: SecretRecord): void {
    if (record.deletedDate === undefined) return;
    delete record.deletedDate;
    delete record.purgeDate;
    record.lastChangedDate = this.#now();
  }

  delete(record: SecretRecord, options: { force: boolean; recoveryDays?: number }): number {
    const now = this.#now();
    if (options.force) {
      this.#region(record.region).delete(record.name);
      return now;
    }
    if (record.purgeDate !== undefined) return record.purgeDate;
    record.deletedDate = now;
    record.purgeDate = now + (options.recoveryDays ?? 30) * DAY_MS;
    return record.purgeDate;
  }
}

function assertNotDeleted(record: SecretRecord): void {
  if (record.deletedDate !== undefined) {
    throw awsError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
  }
}
