import { defineConfig } from 'vitest/config';

// Unit tests live next to the code (src/**/*.test.ts); integration tests that start real
// servers, sockets and mounts live in test/. Both run in one `vitest run`. In CI a JSON report is
// also written so .ci/run can print a plain "N passed, N failed" closing line.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    allowOnly: false,
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: '.ci/vitest-report.json' }]] : ['default'],
  },
});
