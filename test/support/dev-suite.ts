/**
 * `airlock dev` for one end-to-end suite: every role, the emulator and the dev
 * OIDC issuer on the real Redis, under the suite's own key prefix and a fresh
 * state directory, both removed again on close.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDev, type DevOptions, type DevEnvironment } from '../../src/app/dev.ts';
import { loadConfig, type Config } from '../../src/config/env.ts';
import { createLogger } from '../../src/log.ts';
import { cleanupPrefix, REDIS_URL } from './redis.ts';

/** Options of {@link startDevSuite}. */
export interface DevSuiteOptions extends Partial<Pick<DevOptions, 'logger' | 'policy' | 'wrapWarehouse'>> {
  /** The suite's Redis key prefix (from `uniquePrefix`). */
  prefix: string;
  /** More environment; AIRLOCK_LOG_LEVEL is `silent` unless given (the logger decides what is kept). */
  env?: Record<string, string>;
}

/** A running dev environment and what a suite needs to reach or rebuild it. */
export interface DevSuite {
  env: DevEnvironment;
  config: Config;
  stateDir: string;
  /** Stops everything, then deletes the prefix's keys and the state directory. */
  close(): Promise<void>;
}

export async function startDevSuite(options: DevSuiteOptions): Promise<DevSuite> {
  const stateDir = await mkdtemp(join(tmpdir(), `airlock-${options.prefix}-`));
  const config = loadConfig({ REDIS_URL, AIRLOCK_REDIS_PREFIX: options.prefix, AIRLOCK_PORT: '0', AIRLOCK_LOG_LEVEL: 'silent', ...options.env });
  const close = async (env?: DevEnvironment) => {
    await env?.close();
    await cleanupPrefix(options.prefix);
    await rm(stateDir, { recursive: true, force: true });
  };
  try {
    const env = await startDev({
      config,
      logger: options.logger ?? createLogger({ level: 'silent' }),
      stateDir,
      port: 0,
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.wrapWarehouse ? { wrapWarehouse: options.wrapWarehouse } : {}),
    });
    return { env, config, stateDir, close: () => close(env) };
  } catch (err) {
    await close();
    throw err;
  }
}
