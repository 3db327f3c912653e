import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One redis-server for the suite (tests that restart Redis start their own).
    globalSetup: ['test/redis-setup.ts'],
    // Files one after another: workers of one file would otherwise take the shared server's jobs of another
    // (fit.test's tensor-leak test needs every shard on its one worker).
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
