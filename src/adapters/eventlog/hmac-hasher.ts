/**
 * The keyed content hash the event log records instead of values (LoggedObject.hash,
 * SecretSynced.dataHash): HMAC-SHA256 with a per-node key, hex, first 32 characters (128 bits).
 *
 * Why keyed: many secrets are low-entropy (PINs, short passwords, small integers in SSM). A plain
 * SHA-256 of such a value in a log file could be reversed offline by trying every candidate; with an
 * HMAC, a reader of the log also needs the node key. The key lives in its own 0600 file in the
 * agent's state directory, never in the log, and is created once per node, so hashes stay
 * comparable across restarts (rotation and Secret sync compare them with hashes in the log).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SecretletError } from '../../core/errors.js';
import type { ContentHasher } from '../../core/ports/event-log.js';
import { writeFileDurably } from './durable-files.js';

export const NODE_KEY_FILE = 'node-hash.key';
const KEY_BYTES = 32;

export interface HmacHasherOptions {
  /** The agent's state directory (must exist). */
  dir: string;
  /** @default crypto.randomBytes — injected by tests that need a known key. */
  randomKey?: () => Uint8Array;
}

export class HmacHasher implements ContentHasher {
  private readonly key: Buffer;
  readonly #seen = new WeakMap<Uint8Array, string>();

  /** Use `HmacHasher.open`; the constructor takes an already loaded key. */
  constructor(key: Uint8Array) {
    if (key.length !== KEY_BYTES) throw new TypeError(`HMAC key must be ${KEY_BYTES} bytes`);
    this.key = Buffer.from(key);
  }

  /**
   * Loads the node key from `<dir>/node-hash.key`, creating it (0600, written durably: temp,
   * fsync, rename) on first use. A key file of the wrong size is an error, not silently replaced:
   * replacing it would make every hash already in the log look like a content change.
   */
  static async open(options: HmacHasherOptions): Promise<HmacHasher> {
    const path = join(options.dir, NODE_KEY_FILE);
    let key: Buffer;
    try {
      key = await readFile(path);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
      key = Buffer.from((options.randomKey ?? (() => randomBytes(KEY_BYTES)))());
      await writeFileDurably(options.dir, NODE_KEY_FILE, key, 0o600);
      return new HmacHasher(key);
    }
    if (key.length !== KEY_BYTES) {
      throw new SecretletError({
        code: 'DATA_LOSS',
        reason: 'NodeKeyInvalid',
        message: `${path} holds ${key.length} bytes, not a ${KEY_BYTES}-byte key; restore it or remove it and the event log together`,
      });
    }
    // Tighten a key file someone loosened; it must never be readable by others.
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
    return new HmacHasher(key);
  }

  /**
   * Hashes by the bytes' identity first: the pods of one identity share the very value objects of
   * one AWS read, and a 737-pod burst hashed the same ~10 values hundreds of times (~0.1 s of HMAC).
   * Values are never modified after they are fetched, so a remembered hash stays right; the
   * WeakMap lets it go with the value.
   */
  hash(bytes: Uint8Array): string {
    const known = this.#seen.get(bytes);
    if (known !== undefined) return known;
    const hash = createHmac('sha256', this.key).update(bytes).digest('hex').slice(0, 32);
    this.#seen.set(bytes, hash);
    return hash;
  }
}
