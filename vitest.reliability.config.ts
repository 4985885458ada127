/**
 * `npm run test:reliability`: every suite under test/reliability/ in its long
 * form (AIRLOCK_RELIABILITY=long: more requests, more faults), one file at a
 * time so their load does not overlap. `npm test` runs the same files bounded,
 * through vitest.config.ts. Figures go to docs/reliability.md.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/reliability/**/*.test.ts'],
    env: { ...base.test?.env, AIRLOCK_RELIABILITY: 'long' },
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
