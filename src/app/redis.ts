/**
 * Redis and the session log on it, made from the config in one place: the
 * core's connections and `airlock audit`'s one connection differ only in their
 * use. Kept apart from `adapters.ts` so `airlock audit` loads no Slack,
 * Snowflake or OIDC module.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { redisUrl, type Config } from '../config/env.ts';
import { exportStoreFromConfig } from './export-store.ts';
import { RedisAuditLog } from '../audit/redis-log.ts';
import type { ExportStore } from '../audit/export-port.ts';

/**
 * How a connection is used: `command` for our own commands (fail fast instead
 * of queueing forever), `queue` for BullMQ (which needs `maxRetriesPerRequest:
 * null`), `once` for a command-line run that connects when asked and gives up
 * within seconds.
 */
export type RedisUse = 'command' | 'queue' | 'once';

const REDIS_OPTIONS: Record<RedisUse, RedisOptions> = {
  command: { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false },
  queue: { maxRetriesPerRequest: null, enableOfflineQueue: true, lazyConnect: false },
  once: { maxRetriesPerRequest: 1, connectTimeout: 3000, lazyConnect: true },
};

/** One named Redis connection to REDIS_URL. */
export function redisConnection(config: Config, name: string, use: RedisUse): Redis {
  return new Redis(redisUrl(config), { connectionName: `airlock:${name}`, ...REDIS_OPTIONS[use] });
}

/** The session log on `redis`, under AIRLOCK_REDIS_PREFIX. */
export function sessionLog(config: Config, redis: Redis): RedisAuditLog {
  return new RedisAuditLog(redis, { prefix: config.AIRLOCK_REDIS_PREFIX });
}

/** What `airlock audit` works on: one connection (not yet connected), the session log on it, the export store. */
export interface AuditAdapters {
  redis: Redis;
  log: RedisAuditLog;
  store: ExportStore;
}

/** The adapters of `airlock audit`, made as the worker's export schedule makes them. */
export function auditAdapters(config: Config): AuditAdapters {
  const redis = redisConnection(config, 'audit', 'once');
  return { redis, log: sessionLog(config, redis), store: exportStoreFromConfig(config) };
}
