/**
 * Which environment a command beside `airlock dev` works on, said out loud.
 *
 * `airlock dev` runs its own Redis (a managed `redis-server` on a free port,
 * unless REDIS_URL is set), its own key prefix and export folder. A command
 * started in another terminal of the same folder without REDIS_URL would
 * otherwise read the default `127.0.0.1:6379` — some other Redis, or none —
 * and answer "ok: 0 events". So: REDIS_URL when the user set it; else the dev
 * running in this folder (from `.airlock/dev-lock.json`); else the default,
 * and every command says which one it used.
 */
import { redisUrl, type Config } from '../../config/env.ts';
import { runningDev } from '../../app/dev-lock.ts';

/** Where a command's Redis and exports came from. */
export type EnvironmentSource = 'REDIS_URL' | 'airlock dev' | 'default';

/** The config a command runs on, and what it should tell the user about it. */
export interface CommandEnvironment {
  config: Config;
  source: EnvironmentSource;
  /** For the JSON report: where, without any password. */
  summary: { source: EnvironmentSource; redis: string; prefix: string; devPid?: number };
  /** The sentence for stderr. */
  sentence: string;
  /** A second sentence when something looks mixed up (REDIS_URL differs from the dev running here). */
  warning?: string;
}

/** A Redis URL without its password, for people and logs. */
export function withoutPassword(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed?.password) return url;
  parsed.password = '***';
  return parsed.toString();
}

/** The environment for `airlock audit` (and anything else that reads dev's Redis) in `stateDir`'s folder. */
export async function commandEnvironment(config: Config, stateDir: string): Promise<CommandEnvironment> {
  const dev = await runningDev(stateDir);
  const summarise = (c: Config, source: EnvironmentSource, devPid?: number) => ({
    source,
    redis: c.REDIS_CLUSTER_NODES ? `cluster ${c.REDIS_CLUSTER_NODES.split(',').map((n) => withoutPassword(n.trim())).join(',')}` : withoutPassword(redisUrl(c)),
    prefix: c.AIRLOCK_REDIS_PREFIX,
    ...(devPid !== undefined ? { devPid } : {}),
  });
  // REDIS_CLUSTER_NODES names the Redis as plainly as REDIS_URL does: never swap it for a dev's.
  if (config.REDIS_URL || config.REDIS_CLUSTER_NODES) {
    const summary = summarise(config, 'REDIS_URL');
    const differs = dev?.redisUrl && (dev.redisUrl !== config.REDIS_URL || dev.redisPrefix !== config.AIRLOCK_REDIS_PREFIX);
    return {
      config,
      source: 'REDIS_URL',
      summary,
      sentence: `environment: ${config.REDIS_CLUSTER_NODES ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL'} ${summary.redis}, key prefix ${summary.prefix}`,
      ...(differs
        ? { warning: `note: the airlock dev running in this folder (pid ${dev.pid}) uses ${withoutPassword(dev.redisUrl!)} with prefix ${dev.redisPrefix}; unset REDIS_URL to use it` }
        : {}),
    };
  }
  if (dev?.redisUrl) {
    const exports = dev.exportDir ? { AIRLOCK_EXPORT_DIR: dev.exportDir, AIRLOCK_EXPORT_S3_BUCKET: undefined } : {};
    const used: Config = Object.freeze({ ...config, REDIS_URL: dev.redisUrl, AIRLOCK_REDIS_PREFIX: dev.redisPrefix ?? config.AIRLOCK_REDIS_PREFIX, ...exports });
    const summary = summarise(used, 'airlock dev', dev.pid);
    return {
      config: used,
      source: 'airlock dev',
      summary,
      sentence:
        `environment: the airlock dev running in this folder (pid ${dev.pid}): Redis ${summary.redis}, key prefix ${summary.prefix}` +
        (dev.exportDir ? `, exports in ${dev.exportDir}` : ''),
    };
  }
  const summary = summarise(config, 'default');
  return {
    config,
    source: 'default',
    summary,
    sentence:
      `environment: no airlock dev runs in this folder (${stateDir}) and REDIS_URL is unset, so Redis at ${summary.redis} ` +
      `(the default), key prefix ${summary.prefix}. Start \`airlock dev\` here first, or set REDIS_URL and AIRLOCK_REDIS_PREFIX.`,
  };
}
