/**
 * `airlock dev`: everything in one process on embedded defaults (DESIGN §5).
 *
 * Redis from REDIS_URL or a managed `redis-server` child (data under
 * `.airlock/redis`); the Snowflake-wire emulator with the demo seed, logged in
 * to with a key pair generated under `.airlock/` (the same key-pair path as
 * production); the dev OIDC issuer; the API and worker roles.
 */
import { loadConfiguredPolicy } from '../config/policy-file.ts';
import type { ParsedPolicy } from '../policy/schema.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Config } from '../config/env.ts';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { startEmulator } from '../emulator/server.ts';
import { startDevIssuer } from '../identity/dev-issuer.ts';
import type { Warehouse } from '../warehouse/port.ts';
import { buildApp, type AirlockApp } from './build.ts';
import { acquireDevLock, whereaboutsOf } from './dev-lock.ts';
import { whileSeeding } from './dev-progress.ts';
import { withSandbox } from './dev-sandbox.ts';
import type { Sandbox } from '../sandbox/server.ts';

export interface DevOptions {
  config: Config;
  logger: Logger;
  /** State directory; `.airlock` in the working directory by default. */
  stateDir?: string;
  /** Port for the API (AIRLOCK_PORT by default; 0 = any). */
  port?: number;
  /** Emulator and issuer ports (0 = any free port). */
  emulatorPort?: number;
  issuerPort?: number;
  /** Decorate the warehouse (tests count what reaches it; benches time it). */
  wrapWarehouse?: (warehouse: Warehouse) => Warehouse;
  /** Progress lines for people (stderr in the CLI). */
  progress?: (line: string) => void;
  /** Use this policy instead of AIRLOCK_POLICY or the shipped default. */
  policy?: ParsedPolicy;
}

export interface DevEnvironment {
  apiUrl: string;
  emulatorUrl: string;
  issuer: string;
  audience: string;
  redisUrl: string;
  app: AirlockApp;
  /** The Slack sandbox (page, workspace), when dev runs without SLACK_BOT_TOKEN. */
  sandbox?: Sandbox;
  mintToken(a: { agent: string; owner?: string; groups?: string[]; scopes?: string[] }): Promise<string>;
  close(): Promise<void>;
}

export const DEV_AUDIENCE = 'https://airlock.local/api';
export const DEV_ACCOUNT = 'AIRLOCK_DEV';
export const DEV_USER = 'AIRLOCK_SVC';

/** Where dev's statements run: the emulator's demo database, schema and warehouse. */
const DEV_CONTEXT = { database: 'ANALYTICS', schema: 'PUBLIC', warehouse: 'DEV_WH' } as const;

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** True when a Redis answers PING at `url` within a second. */
export async function pingRedis(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Start a private redis-server child; a clear error when none is installed. */
async function startManagedRedis(stateDir: string, progress: (l: string) => void): Promise<{ url: string; child: ChildProcess }> {
  const dir = join(stateDir, 'redis');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''], {
    stdio: 'ignore',
  });
  const started = await new Promise<boolean>((resolveStart) => {
    child.once('error', () => resolveStart(false));
    setTimeout(() => resolveStart(true), 50);
  });
  if (!started) {
    throw new AirlockError(
      'DEPENDENCY_MISSING',
      'Airlock dev needs Redis. Install redis-server (`apt install redis-server`, `brew install redis`), or run one in Docker ' +
        '(`docker compose --profile sandbox up -d redis-dev`, then REDIS_URL=redis://127.0.0.1:6379), or set REDIS_URL to yours.',
    );
  }
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await pingRedis(url)) {
      progress(`redis      ${url} (managed, data in ${dir})`);
      return { url, child };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new AirlockError('DEPENDENCY_MISSING', `redis-server did not answer on ${url} within 5 s.`);
}

/** The dev warehouse key pair, made once and kept under the state directory. */
async function devKeyPair(stateDir: string): Promise<{ privateKeyPath: string; publicKeyPem: string }> {
  const privateKeyPath = join(stateDir, 'snowflake-dev-key.p8');
  const publicPath = join(stateDir, 'snowflake-dev-key.pub');
  try {
    return { privateKeyPath, publicKeyPem: await readFile(publicPath, 'utf8') };
  } catch {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    await writeFile(privateKeyPath, privateKey, { mode: 0o600 });
    await writeFile(publicPath, publicKey, { mode: 0o644 });
    return { privateKeyPath, publicKeyPem: publicKey };
  }
}

/** The dev HMAC key for masking tokens, kept under the state directory so tokens survive restarts. */
async function devMaskingKey(stateDir: string): Promise<Buffer> {
  const path = join(stateDir, 'masking.key');
  const existing = await readFile(path).catch(() => undefined);
  if (existing && existing.length >= 32) return existing;
  const key = randomBytes(32);
  await writeFile(path, key, { mode: 0o600 });
  return key;
}

/** REDIS_URL when it answers, else a managed redis-server (stopped with the rest). */
async function devRedis(
  config: Config,
  stateDir: string,
  progress: (l: string) => void,
  stops: Array<() => unknown>,
  onManaged?: (pid: number | undefined) => Promise<void>,
): Promise<string> {
  if (config.REDIS_CLUSTER_NODES) {
    // dev's state, lock and `airlock audit` beside it name one Redis URL; a cluster is for `airlock serve`.
    throw new AirlockError('CONFIG_INVALID', 'airlock dev runs on one Redis: unset REDIS_CLUSTER_NODES (set REDIS_URL, or nothing for a managed redis-server).');
  }
  if (!config.REDIS_URL) {
    const managed = await startManagedRedis(stateDir, progress);
    stops.push(() => managed.child.kill('SIGTERM'));
    await onManaged?.(managed.child.pid);
    return managed.url;
  }
  if (!(await pingRedis(config.REDIS_URL))) {
    throw new AirlockError('DEPENDENCY_MISSING', `Redis does not answer at REDIS_URL (${config.REDIS_URL}).`);
  }
  progress(`redis      ${config.REDIS_URL}`);
  return config.REDIS_URL;
}

/**
 * The config dev runs on: the user's, pointed at the local Redis, the dev
 * issuer and the emulator. The worker role builds its warehouse from these
 * SNOWFLAKE_* values, as in production; no role or passphrase (the dev key is
 * not encrypted, the emulator needs no role).
 */
function devConfig(options: DevOptions, at: { redisUrl: string; issuer: string; emulatorUrl: string; privateKeyPath: string; stateDir: string }): Config {
  return Object.freeze({
    ...options.config,
    REDIS_URL: at.redisUrl,
    OIDC_ISSUER: at.issuer,
    OIDC_AUDIENCE: DEV_AUDIENCE,
    SNOWFLAKE_ACCOUNT: DEV_ACCOUNT,
    SNOWFLAKE_USER: DEV_USER,
    SNOWFLAKE_PRIVATE_KEY_PATH: at.privateKeyPath,
    SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: undefined,
    SNOWFLAKE_ROLE: undefined,
    SNOWFLAKE_ACCESS_URL: at.emulatorUrl,
    SNOWFLAKE_DATABASE: DEV_CONTEXT.database,
    SNOWFLAKE_SCHEMA: DEV_CONTEXT.schema,
    SNOWFLAKE_WAREHOUSE: DEV_CONTEXT.warehouse,
    AIRLOCK_PORT: options.port ?? options.config.AIRLOCK_PORT,
    // Session-log exports land beside the rest of dev's state unless a store is configured.
    ...(options.config.AIRLOCK_EXPORT_DIR || options.config.AIRLOCK_EXPORT_S3_BUCKET ? {} : { AIRLOCK_EXPORT_DIR: join(at.stateDir, 'exports') }),
  });
}

/** Start the whole dev environment. */
export async function startDev(options: DevOptions): Promise<DevEnvironment> {
  const { logger } = options;
  const progress = options.progress ?? (() => undefined);
  // A bad policy stops everything before any process or port is started.
  const policy = options.policy ?? (await loadConfiguredPolicy(options.config));
  const stateDir = resolve(options.stateDir ?? '.airlock');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const stops: Array<() => Promise<unknown> | unknown> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  };
  // One dev per state directory: a second start refuses here, before it starts or overwrites anything.
  const lock = await acquireDevLock(stateDir);
  stops.push(() => lock.release());
  try {
    const redisUrl = await devRedis(options.config, stateDir, progress, stops, (pid) => lock.update({ ...(pid ? { redisPid: pid } : {}) }));
    const keys = await devKeyPair(stateDir);
    const emulator = await whileSeeding(progress, startEmulator({
      port: options.emulatorPort ?? 0,
      seed: 'demo',
      account: DEV_ACCOUNT,
      user: DEV_USER,
      publicKeyPem: keys.publicKeyPem,
      ...DEV_CONTEXT,
      role: 'AIRLOCK_READER',
      logger,
      onProgress: (line) => progress(`           ${line}`),
    }));
    stops.push(() => emulator.close());
    progress(`snowflake  ${emulator.url} (emulator, demo data: ANALYTICS.PUBLIC.CUSTOMERS, ORDERS; HR.CORE.EMPLOYEES)`);

    const issuer = await startDevIssuer({
      audience: DEV_AUDIENCE,
      stateDir,
      ...(options.issuerPort !== undefined ? { port: options.issuerPort } : {}),
      logger: logger.child({ component: 'dev-issuer' }),
    });
    stops.push(() => issuer.close());
    progress(`oidc       ${issuer.issuer} (dev issuer)`);

    const dev = await withSandbox(devConfig(options, { redisUrl, issuer: issuer.issuer, emulatorUrl: emulator.url, privateKeyPath: keys.privateKeyPath, stateDir }), policy, { logger, freePort, stateDir });
    const { config, sandbox } = dev;
    const maskingKey = await devMaskingKey(stateDir);
    const app = await buildApp(config, {
      roles: ['api', 'worker'],
      logger,
      ...(options.wrapWarehouse ? { wrapWarehouse: options.wrapWarehouse } : {}),
      allowInsecureIssuer: true,
      policy: dev.policy,
      maskingKey,
      ...(sandbox ? { mounts: [sandbox.mount] } : {}),
    });
    stops.push(() => app.close());
    // The sandbox's live feeds end first, or the server would wait for them to close.
    if (sandbox) stops.push(() => sandbox.close());
    const apiUrl = (await app.listen())!;
    progress(`api        ${apiUrl}`);
    // Now `airlock audit` and `airlock token` beside this dev find its Redis, prefix, issuer and exports.
    await lock.update(whereaboutsOf(config, apiUrl));
    if (sandbox) progress(`slack      ${sandbox.url} (sandbox: no SLACK_BOT_TOKEN, so approvals happen on this page)`);
    return {
      apiUrl,
      emulatorUrl: emulator.url,
      issuer: issuer.issuer,
      audience: DEV_AUDIENCE,
      redisUrl,
      app,
      ...(sandbox ? { sandbox } : {}),
      mintToken: (a) => issuer.mintToken(a),
      close: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
