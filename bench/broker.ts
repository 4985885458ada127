/**
 * The broker as its own process for bench/load.ts: `airlock serve --roles
 * api,worker` (or the roles in BENCH_BROKER_ROLES, e.g. `api` or `worker`)
 * on the environment it is given, except that it accepts the
 * bench's plain-HTTP dev issuer (serve insists on HTTPS issuers). Prints its
 * URL on stdout once it serves; stops on SIGTERM.
 *
 * Not a deployment entry point: benches only.
 */
import { randomBytes } from 'node:crypto';
import { buildApp } from '../src/app/build.ts';
import { loadConfig } from '../src/config/env.ts';
import { createLogger } from '../src/log.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await buildApp(config, {
    roles: (process.env.BENCH_BROKER_ROLES ?? 'api,worker').split(',') as Array<'api' | 'worker'>,
    logger: createLogger({ level: config.AIRLOCK_LOG_LEVEL }),
    allowInsecureIssuer: true,
    maskingKey: randomBytes(32),
  });
  const url = await app.listen();
  process.stdout.write(`${url}\n`);
  const stop = () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench broker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
