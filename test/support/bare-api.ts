/**
 * The real fastify app with no services behind it: every token is agent `a`,
 * evaluation is never reached. For tests of the HTTP edge itself (client
 * address, router errors) through `inject`; `extra` adds or overrides deps
 * (`mounts` for a route of the test's own, `trustProxy`, …).
 */
import { buildApi, type ApiDeps } from '../../src/api/server.ts';
import { createLogger } from '../../src/log.ts';

export function bareApi(extra: Partial<ApiDeps> = {}) {
  return buildApi({
    authenticator: { verify: async () => ({ id: 'a', name: 'a', groups: [] }) },
    evaluate: () => {
      throw new Error('not used');
    },
    logger: createLogger({ level: 'silent' }),
    bodyLimitBytes: 1024 * 1024,
    maxSqlBytes: 100_000,
    readiness: async () => ({ checks: {} }),
    ...extra,
  });
}
