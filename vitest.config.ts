import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores here: integration suites start servers; keep parallelism modest.
    maxWorkers: 2,
    env: { SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true' },
    globalSetup: ['test/global-setup.ts'],
  },
});
