/**
 * Fresh temporary directories for filesystem tests, removed afterwards, and a shorthand for
 * building payload files from text.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RenderedFile } from '../../src/core/model.js';

export interface TempDirs {
  /** A new, empty directory that `removeAll` will delete; with `name`, a not-yet-existing path inside one. */
  make(name?: string): Promise<string>;
  removeAll(): Promise<void>;
}

export function tempDirs(prefix = 'secretlet-fs-'): TempDirs {
  const made: string[] = [];
  return {
    async make(name) {
      const root = await mkdtemp(join(tmpdir(), prefix));
      made.push(root);
      return name === undefined ? root : join(root, name);
    },
    async removeAll() {
      await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}

export function textFile(path: string, text: string, mode = 0o644): RenderedFile {
  return { path, mode, contents: Buffer.from(text) };
}
