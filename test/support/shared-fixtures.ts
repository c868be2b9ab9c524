/**
 * Reads the shared SecretProviderClass fixtures (test/fixtures/spc, a copy of ../shared/fixtures/spc) for tests, so core unit tests
 * get their text without importing node:fs themselves.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SPC_FIXTURES_DIR } from './paths.js';

export interface SharedSpcFixture {
  file: string;
  source: string;
}

export function readSharedSpcFixtures(): SharedSpcFixture[] {
  return readdirSync(SPC_FIXTURES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => ({ file, source: readFileSync(join(SPC_FIXTURES_DIR, file), 'utf8') }));
}
