/**
 * Paths tests share, found relative to this file, never by an absolute path.
 *
 * The SecretProviderClass fixtures are the project's shared ones (`../shared/fixtures/spc`, beside
 * the checkout on project machines), copied into `test/fixtures/spc` so that a clone alone runs the
 * tests; `test/fixtures/shared-copy.test.ts` fails when the copy and the shared folder differ.
 */
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DIR = resolve(REPO_ROOT, '..', 'shared');
export const SPC_FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures', 'spc');
export const SHARED_SPC_FIXTURES_DIR = join(SHARED_DIR, 'fixtures', 'spc');
