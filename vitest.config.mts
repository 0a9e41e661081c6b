import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every local cloud a test starts is checked for invariant violations after each test (test/helpers/cloud.ts).
    setupFiles: ['test/helpers/invariant-guard.ts'],
    // The functions are built once per run, for every suite that runs the bundles (test/helpers/built.ts).
    globalSetup: ['test/helpers/global-build.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
