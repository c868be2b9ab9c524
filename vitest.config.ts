import { defineConfig } from 'vitest/config';

// Unit tests live next to the code (src/**/*.test.ts); integration tests that start real
// servers, sockets and mounts live in test/. Both run in one `vitest run`.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    allowOnly: false,
    reporters: ['default'],
  },
});
