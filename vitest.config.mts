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
    // Most suites wait on the network, timers and child processes rather than compute: three forks on a 2-core
    // machine take the suite from about 9.5 to 5 minutes (vitest's default there is one fork). Four made the
    // timing-sensitive suites flake.
    maxWorkers: 3,
    reporters: ['default'],
  },
});
