/**
 * Snowflake key rotation without a restart, in the worker role.
 *
 * Snowflake gives a user two key slots (`RSA_PUBLIC_KEY`, `RSA_PUBLIC_KEY_2`)
 * so a key can be replaced while the old one still works: register the new
 * public key in the free slot, replace the private key file the workers read
 * (a Kubernetes Secret update swaps it under them), then clear the old slot
 * (docs/operations.md). This file notices the new file (directory events, a
 * poll, SIGHUP), has the adapter log in with it from then on, and says which
 * key each worker uses (log line and /metrics), so the old slot is cleared only
 * once every worker has moved.
 */
import type { Logger } from '../log.ts';
import type { SnowflakeWarehouse } from '../warehouse/snowflake.ts';
import { metricLine, type Core } from './core.ts';
import { watchFile } from './file-watch.ts';
import type { Running } from './roles/role.ts';

const KEY_INFO_HELP = [
  '# HELP airlock_snowflake_key_info The Snowflake key this worker logs in with (RSA_PUBLIC_KEY_FP of its public half).',
  '# TYPE airlock_snowflake_key_info gauge',
];

/** Follow `path` for `warehouse`; register the SIGHUP re-read and the /metrics line on the core. */
export function followKeyFile(core: Core, warehouse: SnowflakeWarehouse, path: string): Running {
  const logger: Logger = core.logger.child({ component: 'snowflake-key' });
  const reload = async (): Promise<void> => {
    const previous = warehouse.keyFingerprint();
    try {
      const { changed, fingerprint } = await warehouse.reloadKey();
      // Fingerprints are public (Snowflake shows them to anyone who can DESC USER); the key itself is never logged.
      if (changed) logger.info({ event: 'snowflake_key_reloaded', file: path, fingerprint, previous }, 'Snowflake key reloaded; new connections use it, old ones retire');
    } catch (err) {
      logger.error(
        { event: 'snowflake_key_reload_rejected', file: path, problem: err instanceof Error ? err.message : String(err), fingerprint: previous },
        'Snowflake key file rejected; the key in use stays',
      );
    }
  };
  // The initial hash is unknown here (the adapter read the file): the first check compares keys instead.
  const watch = watchFile(path, '', {
    pollMs: core.config.AIRLOCK_RELOAD_POLL_SECONDS * 1000,
    onChange: reload,
    onUnreadable: (err) =>
      logger.error(
        { event: 'snowflake_key_reload_rejected', file: path, problem: `cannot read the file: ${err.code ?? err.message}`, fingerprint: warehouse.keyFingerprint() },
        'Snowflake key file unreadable; the key in use stays',
      ),
  });
  void watch.check();
  core.reloads.push(() => watch.check());
  core.info.push(() => {
    const fingerprint = warehouse.keyFingerprint();
    return fingerprint ? [...KEY_INFO_HELP, metricLine('airlock_snowflake_key_info', { fingerprint })] : [];
  });
  return {
    stop: async () => watch.close(),
  };
}
