import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores here: integration suites start servers; keep parallelism modest.
    maxWorkers: 2,
    // Tests format timestamps; pin the zone so results do not depend on the host.
    env: { TZ: 'UTC', SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    globalSetup: ['test/global-setup.ts'],
  },
});
