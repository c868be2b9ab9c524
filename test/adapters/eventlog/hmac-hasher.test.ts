import { createHash, createHmac } from 'node:crypto';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HmacHasher, NODE_KEY_FILE } from '../../../src/adapters/eventlog/hmac-hasher.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secretlet-hasher-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('HmacHasher', () => {
  it('creates a 0600 node key once and hashes with it across restarts', async () => {
    const first = await HmacHasher.open({ dir });
    expect((await stat(join(dir, NODE_KEY_FILE))).mode & 0o777).toBe(0o600);
    const value = new TextEncoder().encode('123456');
    const hash = first.hash(value);
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    const second = await HmacHasher.open({ dir });
    expect(second.hash(value)).toBe(hash);
  });

  it('is keyed: the hash is not the plain SHA-256 of the value and differs between nodes', async () => {
    const value = new TextEncoder().encode('hunter2');
    const nodeA = await HmacHasher.open({ dir, randomKey: () => new Uint8Array(32).fill(1) });
    const otherDir = await mkdtemp(join(tmpdir(), 'secretlet-hasher-b-'));
    try {
      const nodeB = await HmacHasher.open({ dir: otherDir, randomKey: () => new Uint8Array(32).fill(2) });
      expect(nodeA.hash(value)).not.toBe(createHash('sha256').update(value).digest('hex').slice(0, 32));
      expect(nodeA.hash(value)).not.toBe(nodeB.hash(value));
      expect(nodeA.hash(value)).toBe(createHmac('sha256', Buffer.alloc(32, 1)).update(value).digest('hex').slice(0, 32));
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('refuses a damaged key file instead of silently replacing it', async () => {
    await writeFile(join(dir, NODE_KEY_FILE), 'short');
    await expect(HmacHasher.open({ dir })).rejects.toMatchObject({ code: 'DATA_LOSS', reason: 'NodeKeyInvalid' });
  });

  it('tightens a key file that others can read', async () => {
    await HmacHasher.open({ dir });
    await chmod(join(dir, NODE_KEY_FILE), 0o644);
    await HmacHasher.open({ dir });
    expect((await stat(join(dir, NODE_KEY_FILE))).mode & 0o777).toBe(0o600);
  });
});
