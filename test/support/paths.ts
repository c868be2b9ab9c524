/**
 * Paths tests share. `shared/` sits beside the project checkout (`../shared` from the repo root), on
 * developers' machines and in CI alike, so it is found relative to this file, never by an absolute path.
 */
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DIR = resolve(REPO_ROOT, '..', 'shared');
export const SPC_FIXTURES_DIR = join(SHARED_DIR, 'fixtures', 'spc');
