#!/usr/bin/env node
/**
 * The `airlock` command. Machine-readable output goes to stdout, logs and
 * progress to stderr (DESIGN §3), so `npm run --silent airlock -- token` can be
 * captured by scripts.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { checkEnv, loadConfig, type Config } from '../config/env.ts';
import { AirlockError, asAirlockError } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';

const HELP = `airlock — approval gateway for AI agents that query Snowflake

Usage:
  airlock dev                               everything in one process on embedded defaults
  airlock serve [--roles api,worker]        production entry point (all roles by default)
  airlock emulator [--port N] [--db FILE] [--seed demo] [--account A] [--user U]
                   [--password P] [--public-key FILE]
                                            run the Snowflake-wire emulator alone
  airlock token [--agent NAME] [--owner EMAIL] [--groups a,b] [--ttl SECONDS]
                                            print a bearer token from the running dev issuer
  airlock config check                      validate the environment; print every problem
  airlock help                              this text

Configuration comes from the environment; see README.md.`;

function stderr(line: string): void {
  process.stderr.write(`${line}\n`);
}

function logger(config?: Config): Logger {
  return createLogger({ level: config?.AIRLOCK_LOG_LEVEL ?? 'info' });
}

/** Wait for SIGINT/SIGTERM, then run `close` once. */
function onShutdown(close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const stop = () => {
      if (closing) {
        stderr('forced exit');
        process.exit(130);
      }
      closing = true;
      stderr('shutting down… (again to force)');
      // Never hang on a stuck dependency: give up after 15 s.
      setTimeout(() => {
        stderr('shutdown took longer than 15 s; exiting anyway');
        process.exit(1);
      }, 15_000).unref();
      close().finally(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Human-readable logs for `airlock dev` when pino-pretty (a dev dependency) is installed. */
async function devLogger(config: Config): Promise<Logger> {
  try {
    const { default: pretty } = await import('pino-pretty');
    const stream = pretty({ destination: 2, colorize: process.stderr.isTTY, ignore: 'pid,hostname,name', translateTime: 'HH:MM:ss' });
    return createLogger({ level: config.AIRLOCK_LOG_LEVEL, destination: stream });
  } catch {
    return logger(config);
  }
}

async function dev(): Promise<number> {
  const config = loadConfig(process.env);
  const log = await devLogger(config);
  const { startDev } = await import('../app/dev.ts');
  stderr('Starting Airlock dev environment…');
  const env = await startDev({ config, logger: log, progress: (l) => stderr(`  ${l}`) });
  const token = await env.mintToken({ agent: 'demo-agent', owner: 'dev@example.com', groups: ['analysts'] });
  stderr(`
Airlock is ready at ${env.apiUrl}

Try a query (the token is for agent "demo-agent", owner dev@example.com):

  curl -s ${env.apiUrl}/v1/queries \\
    -H "Authorization: Bearer ${token}" \\
    -H 'Content-Type: application/json' \\
    -d '{"sql":"select first_name, email from customers limit 3","waitMs":5000}'

More tokens: npm run --silent airlock -- token --agent NAME --owner EMAIL
Stop with Ctrl-C.`);
  await onShutdown(() => env.close());
  return 0;
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { roles: { type: 'string' } }, strict: true });
  const config = loadConfig(process.env);
  const log = logger(config);
  const { buildApp, ALL_ROLES } = await import('../app/build.ts');
  const roles = values.roles ? values.roles.split(',').map((r) => r.trim()) : [...ALL_ROLES];
  const unknown = roles.filter((r) => !(ALL_ROLES as readonly string[]).includes(r));
  if (unknown.length > 0) {
    throw new AirlockError('BAD_REQUEST', `Unknown role(s): ${unknown.join(', ')}. Roles: ${ALL_ROLES.join(', ')}.`);
  }
  const app = await buildApp(config, { roles: roles as typeof ALL_ROLES[number][], logger: log });
  const url = await app.listen();
  stderr(`airlock serving roles ${roles.join(',')}${url ? ` on ${url}` : ''}`);
  await onShutdown(() => app.close());
  return 0;
}

async function emulator(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      seed: { type: 'string' },
      account: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      'public-key': { type: 'string' },
    },
    strict: true,
  });
  const port = values.port === undefined ? 8085 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AirlockError('BAD_REQUEST', `--port must be 0-65535, not ${values.port}.`);
  if (values.seed !== undefined && values.seed !== 'demo' && values.seed !== 'none') {
    throw new AirlockError('BAD_REQUEST', `--seed takes "demo" or "none", not "${values.seed}".`);
  }
  let publicKeyPem: string | undefined;
  if (values['public-key']) {
    try {
      publicKeyPem = await readFile(values['public-key'], 'utf8');
    } catch {
      throw new AirlockError('BAD_REQUEST', `Cannot read the public key file ${values['public-key']}.`);
    }
  }
  const password = values.password ?? (publicKeyPem ? undefined : 'airlock');
  const { startEmulator } = await import('../emulator/server.ts');
  stderr('Starting the Snowflake-wire emulator…');
  const t0 = performance.now();
  const emu = await startEmulator({
    host: values.host ?? '127.0.0.1',
    port,
    seed: values.seed === 'none' ? 'none' : 'demo',
    account: values.account ?? 'EMU',
    user: values.user ?? 'AIRLOCK',
    ...(values.db ? { dbFile: values.db } : {}),
    ...(password ? { password } : {}),
    ...(publicKeyPem ? { publicKeyPem } : {}),
    logger: logger(),
  });
  stderr(`ready in ${Math.round(performance.now() - t0)} ms; account ${values.account ?? 'EMU'}, user ${values.user ?? 'AIRLOCK'}` +
    `${password && !values.password ? ', password airlock' : ''}${publicKeyPem ? ', key pair accepted' : ''}`);
  process.stdout.write(`${emu.url}\n`);
  await onShutdown(() => emu.close());
  return 0;
}

async function token(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      agent: { type: 'string' },
      owner: { type: 'string' },
      groups: { type: 'string' },
      ttl: { type: 'string' },
      'state-dir': { type: 'string' },
    },
    strict: true,
  });
  const { requestDevToken } = await import('../identity/dev-token.ts');
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) throw new AirlockError('BAD_REQUEST', '--ttl must be a positive number of seconds.');
  const jwt = await requestDevToken({
    stateDir: values['state-dir'] ?? '.airlock',
    agent: values.agent ?? 'demo-agent',
    ...(values.owner ? { owner: values.owner } : {}),
    ...(values.groups ? { groups: values.groups.split(',').map((g) => g.trim()).filter(Boolean) } : {}),
    ...(ttl ? { ttlSeconds: ttl } : {}),
  });
  process.stdout.write(`${jwt}\n`);
  return 0;
}

function configCheck(): number {
  const { problems } = checkEnv(process.env);
  if (problems.length === 0) {
    process.stdout.write('configuration OK\n');
    return 0;
  }
  for (const p of problems) process.stdout.write(`${p.variable}: ${p.message}\n`);
  return 1;
}

async function main(argv: string[]): Promise<number> {
  // snowflake-sdk probes cloud metadata endpoints on import unless told not to; Airlock never needs it.
  process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ??= 'true';
  // The AWS SDK inside snowflake-sdk warns that its future releases need Node 22; not actionable for users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [command, ...rest] = argv;
  switch (command) {
    case 'dev':
      return dev();
    case 'serve':
      return serve(rest);
    case 'emulator':
      return emulator(rest);
    case 'token':
      return token(rest);
    case 'config':
      if (rest[0] === 'check') return configCheck();
      stderr('usage: airlock config check');
      return 2;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${HELP}\n`);
      return command === undefined ? 2 : 0;
    default:
      stderr(`airlock: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS')
      ? new AirlockError('BAD_REQUEST', err.message)
      : asAirlockError(err);
    if (e.code === 'INTERNAL') stderr(`airlock: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
    else stderr(`airlock: ${e.code}: ${e.message}`);
    const problems = (e.details as { problems?: Array<{ variable: string; message: string }> }).problems;
    if (problems) for (const p of problems) stderr(`  ${p.variable}: ${p.message}`);
    process.exit(1);
  },
);
