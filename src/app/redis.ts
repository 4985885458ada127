/**
 * Redis and the session log on it, made from the config in one place: the
 * core's connections and `airlock audit`'s one connection differ only in their
 * use. Kept apart from `adapters.ts` so `airlock audit` loads no Slack,
 * Snowflake or OIDC module.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { redisUrl, type Config } from '../config/env.ts';
import { parseClusterNodes } from '../config/redis-cluster.ts';
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

/** One named Redis connection: to REDIS_URL, or to the cluster REDIS_CLUSTER_NODES names. */
export function redisConnection(config: Config, name: string, use: RedisUse): Redis {
  if (config.REDIS_CLUSTER_NODES) return clusterConnection(config.REDIS_CLUSTER_NODES, name, use);
  return new Redis(redisUrl(config), { connectionName: `airlock:${name}`, ...REDIS_OPTIONS[use] });
}

/**
 * A Redis Cluster client (docs/deployment.md#redis-cluster). Typed as the
 * single-node client because ioredis's Cluster speaks the same commands and
 * the stores, queues and scripts use nothing a cluster lacks: every key of an
 * install carries the prefix's hash tag (config/redis-cluster.ts), so each
 * script, MULTI, pipeline and BullMQ queue stays in one slot. BullMQ tells
 * the two apart at run time and duplicates cluster connections itself.
 */
function clusterConnection(nodes: string, name: string, use: RedisUse): Redis {
  const settings = parseClusterNodes(nodes);
  // The config was validated at start; this only narrows the type.
  if ('error' in settings) throw new Error(`REDIS_CLUSTER_NODES: ${settings.error}`);
  const { lazyConnect, enableOfflineQueue, ...perNode } = REDIS_OPTIONS[use];
  const cluster = new Cluster(settings.nodes, {
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    redisOptions: {
      connectionName: `airlock:${name}`,
      ...perNode,
      ...(settings.username ? { username: settings.username } : {}),
      ...(settings.password ? { password: settings.password } : {}),
      ...(settings.tls ? { tls: {} } : {}),
    },
    // With TLS, connect to nodes by the names CLUSTER SLOTS gives, so certificates that name hosts verify (ElastiCache, Memorystore).
    ...(settings.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
  });
  // Same commands, other class (see above).
  return cluster as unknown as Redis;
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
