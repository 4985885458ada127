/**
 * The composition root: build adapters, then services, for the chosen roles.
 *
 * `airlock dev` and `airlock serve --roles …` only choose roles and inputs;
 * everything is wired here, once. No state lives only in process memory, so
 * any number of replicas of any role can share one Redis.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import type { Worker } from 'bullmq';
import { systemClock, type Clock } from '../clock.ts';
import type { Config } from '../config/env.ts';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { buildApi, type Authenticator } from '../api/server.ts';
import { createTokenVerifier } from '../identity/verifier.ts';
import { WebClient } from '@slack/web-api';
import { ApprovalService, type Directory } from '../approvals/service.ts';
import type { AuditLog } from '../audit/log.ts';
import { RedisAuditLog } from '../audit/redis-log.ts';
import { AuditSearch } from '../audit/search.ts';
import { SessionAccess } from '../audit/sessions.ts';
import { ApprovalStore } from '../approvals/store.ts';
import { loadConfiguredPolicy } from '../config/policy-file.ts';
import { ApprovalsQueue, startApprovalsWorker } from '../queue/approvals-queue.ts';
import { AuditExportQueue, runScheduledExport, startAuditExportWorker } from '../queue/audit-export-queue.ts';
import { exportStoreFromConfig } from '../audit/export-store.ts';
import { SlackQueue, startSlackWorker } from '../queue/slack-queue.ts';
import type { CardNotifier } from '../queries/ports.ts';
import { createSlackApp, webClientOptions } from '../slack/app.ts';
import { CardSync } from '../slack/cards.ts';
import { SlackDirectory } from '../slack/directory.ts';
import { QueryAccess } from '../slack/access.ts';
import { isOwnerless } from '../approvals/identity.ts';
import { FastifySlackReceiver } from '../slack/receiver.ts';
import { createResultMasker } from '../masking/service.ts';
import { catalogLookup, createPolicyEngine, type PolicyEngine } from '../policy/engine.ts';
import type { ParsedPolicy } from '../policy/schema.ts';
import { Notifier } from '../queries/notifier.ts';
import { ExecutionService } from '../queries/execution.ts';
import { QueryService, type Evaluate } from '../queries/service.ts';
import { QueryStore } from '../queries/store.ts';
import { ExecuteQueue, startExecuteWorker } from '../queue/execute-queue.ts';
import { createSnowflakeWarehouse } from '../warehouse/snowflake.ts';
import type { Warehouse } from '../warehouse/port.ts';

export type Role = 'api' | 'worker' | 'slack';
export const ALL_ROLES: readonly Role[] = ['api', 'worker', 'slack'];

export interface BuildOptions {
  roles: readonly Role[];
  logger: Logger;
  /** Replace adapters (the dev command passes its emulator-backed warehouse; benches too). */
  warehouse?: Warehouse;
  authenticator?: Authenticator;
  /** Allow http:// issuers (dev issuer, tests). */
  allowInsecureIssuer?: boolean;
  /** Use this policy instead of loading AIRLOCK_POLICY (or the shipped default). */
  policy?: ParsedPolicy;
  /** HMAC key for masking tokens when AIRLOCK_MASKING_KEY is unset (dev keeps one on disk). */
  maskingKey?: Buffer;
  /** Replace the Redis audit log (tests use a failing one to prove the fail-closed paths). */
  auditLog?: AuditLog;
  /** The one clock every store, service, card sync and the Slack receiver read (default: the wall clock). */
  clock?: Clock;
}

export interface AirlockApp {
  api?: FastifyInstance;
  worker?: Worker;
  /** Start listening (api role) on AIRLOCK_HOST:AIRLOCK_PORT; returns the base URL. */
  listen(): Promise<string | undefined>;
  close(): Promise<void>;
}

function redisConnection(config: Config, name: string, forQueue: boolean): Redis {
  const url = config.REDIS_URL ?? 'redis://127.0.0.1:6379';
  return new Redis(url, {
    connectionName: `airlock:${name}`,
    // BullMQ needs null here; our own commands should fail fast instead of queueing forever.
    maxRetriesPerRequest: forQueue ? null : 2,
    enableOfflineQueue: true,
    lazyConnect: false,
  });
}

/** Turn the token's identity into the requester the services know. */
function authenticatorFromConfig(config: Config, options: BuildOptions): Authenticator {
  if (!config.OIDC_ISSUER || !config.OIDC_AUDIENCE) {
    // Fail closed: without an issuer no token can be verified, so every call is refused.
    return {
      verify: async () => {
        throw new AirlockError('AUTH_INVALID', 'No OIDC issuer is configured (OIDC_ISSUER); the API accepts no tokens.');
      },
    };
  }
  const verifier = createTokenVerifier({
    issuer: config.OIDC_ISSUER,
    audience: config.OIDC_AUDIENCE,
    algorithms: config.AIRLOCK_OIDC_ALGORITHMS,
    clockSkewSeconds: config.AIRLOCK_OIDC_CLOCK_SKEW_SECONDS,
    claims: { owner: config.AIRLOCK_OIDC_OWNER_CLAIM, groups: config.AIRLOCK_OIDC_GROUPS_CLAIM, name: config.AIRLOCK_OIDC_NAME_CLAIM },
    allowInsecureHttp: options.allowInsecureIssuer ?? false,
    logger: options.logger.child({ component: 'identity' }),
  });
  return {
    async verify(authorization) {
      const identity = await verifier.verify(authorization);
      return {
        id: identity.id,
        name: identity.name,
        ...(identity.owner ? { owner: identity.owner } : {}),
        groups: [...identity.groups],
        scopes: [...identity.scopes],
      };
    },
  };
}

/**
 * AIRLOCK_OWNERLESS_TOKENS=refuse_token: a token without a usable owner claim
 * (absent, or not an email address) is refused at the door, so no query
 * without an owner to keep from approving it ever exists (docs/approvals.md).
 */
function requireOwnerWhenAsked(config: Config, inner: Authenticator): Authenticator {
  if (config.AIRLOCK_OWNERLESS_TOKENS !== 'refuse_token') return inner;
  return {
    async verify(authorization) {
      const requester = await inner.verify(authorization);
      if (isOwnerless(requester.owner)) {
        throw new AirlockError(
          'FORBIDDEN',
          `This token names no owner email (claim ${config.AIRLOCK_OIDC_OWNER_CLAIM}), and this install refuses such tokens (AIRLOCK_OWNERLESS_TOKENS=refuse_token): ask for a token that names the agent's owner.`,
          { details: { reason: 'OWNER_CLAIM_MISSING', claim: config.AIRLOCK_OIDC_OWNER_CLAIM } },
        );
      }
      return requester;
    },
  };
}

async function warehouseFromConfig(config: Config, logger: Logger): Promise<Warehouse> {
  if (!config.SNOWFLAKE_ACCOUNT || !config.SNOWFLAKE_USER) {
    throw new AirlockError('CONFIG_INVALID', 'The worker role needs SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER and SNOWFLAKE_PRIVATE_KEY_PATH.', {
      details: {
        problems: ['SNOWFLAKE_ACCOUNT', 'SNOWFLAKE_USER']
          .filter((v) => !config[v as keyof Config])
          .map((variable) => ({ variable, message: 'required by the worker role' })),
      },
    });
  }
  return createSnowflakeWarehouse({
    account: config.SNOWFLAKE_ACCOUNT,
    user: config.SNOWFLAKE_USER,
    ...(config.SNOWFLAKE_PRIVATE_KEY_PATH ? { privateKeyPath: config.SNOWFLAKE_PRIVATE_KEY_PATH } : {}),
    ...(config.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE ? { privateKeyPassphrase: config.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE } : {}),
    ...(config.SNOWFLAKE_ACCESS_URL ? { accessUrl: config.SNOWFLAKE_ACCESS_URL } : {}),
    ...(config.SNOWFLAKE_WAREHOUSE ? { warehouse: config.SNOWFLAKE_WAREHOUSE } : {}),
    ...(config.SNOWFLAKE_ROLE ? { role: config.SNOWFLAKE_ROLE } : {}),
    ...(config.SNOWFLAKE_DATABASE ? { database: config.SNOWFLAKE_DATABASE } : {}),
    ...(config.SNOWFLAKE_SCHEMA ? { schema: config.SNOWFLAKE_SCHEMA } : {}),
    poolSize: config.AIRLOCK_WAREHOUSE_POOL_SIZE,
    statementTimeoutMs: config.AIRLOCK_STATEMENT_TIMEOUT_MS,
    logger,
  });
}

interface SlackSettings {
  botToken: string;
  /** Needed where cards are posted (worker or slack role). */
  channel?: string;
  /** Needed where Slack's requests are received over HTTP. */
  signingSecret?: string;
  /** Socket Mode instead of HTTP. */
  appToken?: string;
  apiUrl?: string;
}

/**
 * Slack is on when SLACK_BOT_TOKEN is set. Each role then needs its own part:
 * the card outbox the channel, the receiver the signing secret (or an app token
 * for Socket Mode). A role that would need a missing part refuses to start.
 */
function slackSettings(config: Config, roles: readonly Role[]): SlackSettings | undefined {
  if (!config.SLACK_BOT_TOKEN) {
    if (roles.includes('slack')) throw new AirlockError('CONFIG_INVALID', 'The slack role needs SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN).');
    return undefined;
  }
  const missing: string[] = [];
  if ((roles.includes('worker') || roles.includes('slack')) && !config.SLACK_APPROVAL_CHANNEL) missing.push('SLACK_APPROVAL_CHANNEL (where cards are posted)');
  if (roles.includes('slack') && !config.SLACK_SIGNING_SECRET && !config.SLACK_APP_TOKEN) missing.push('SLACK_SIGNING_SECRET or SLACK_APP_TOKEN (to receive clicks)');
  if (missing.length > 0) throw new AirlockError('CONFIG_INVALID', `SLACK_BOT_TOKEN is set, so Slack is on; also set ${missing.join(' and ')}.`);
  return {
    botToken: config.SLACK_BOT_TOKEN,
    ...(config.SLACK_APPROVAL_CHANNEL ? { channel: config.SLACK_APPROVAL_CHANNEL } : {}),
    ...(config.SLACK_SIGNING_SECRET ? { signingSecret: config.SLACK_SIGNING_SECRET } : {}),
    ...(config.SLACK_APP_TOKEN ? { appToken: config.SLACK_APP_TOKEN } : {}),
    ...(config.SLACK_API_URL ? { apiUrl: config.SLACK_API_URL } : {}),
  };
}

/**
 * The HMAC key for `hash` masking tokens: AIRLOCK_MASKING_KEY (hashed to 32
 * bytes), or one the caller passes (dev keeps one under .airlock/). Without
 * either, a random key for this process: tokens then change on restart.
 */
function maskingKey(config: Config, logger: Logger, given: Buffer | undefined): Buffer {
  if (config.AIRLOCK_MASKING_KEY) return createHash('sha256').update(config.AIRLOCK_MASKING_KEY).digest();
  if (given) return given;
  logger.warn({ component: 'masking' }, 'AIRLOCK_MASKING_KEY is not set: hash tokens in masked results change when this process restarts');
  return randomBytes(32);
}

/** Build every adapter and service the roles need. */
export async function buildApp(config: Config, options: BuildOptions): Promise<AirlockApp> {
  const { logger } = options;
  // The policy comes first: an invalid file stops start-up, every problem listed, before any connection opens.
  const policy = options.policy ?? (await loadConfiguredPolicy(config));
  const engine: PolicyEngine = createPolicyEngine(policy);
  logger.info({ policy: policy.file.name ?? null, version: policy.version.slice(0, 12), rules: policy.file.rules.length }, 'policy loaded');
  const prefix = config.AIRLOCK_REDIS_PREFIX;
  const connections: Redis[] = [];
  const connect = (name: string, forQueue = false) => {
    const c = redisConnection(config, name, forQueue);
    c.on('error', (err: Error) => logger.warn({ component: 'redis', connection: name, err: err.message }, 'redis connection error'));
    connections.push(c);
    return c;
  };
  const command = connect('command');
  const clock = options.clock ?? systemClock;
  const store = new QueryStore(command, { prefix, resultTtlSeconds: config.AIRLOCK_RESULT_TTL_SECONDS, clock });
  const notifier = new Notifier(connect('subscriber'), command, prefix);
  const evaluate: Evaluate = (sql, requester) => engine.evaluate(sql, { agent: requester.id, groups: requester.groups });
  const closers: Array<() => Promise<unknown>> = [];

  // The session log (docs/audit.md): received/decided/execution_started fail closed.
  const auditReader = new RedisAuditLog(command, { prefix });
  const audit = options.auditLog ?? auditReader;
  const auditSearch = new AuditSearch(auditReader);

  // Approvals: state on the query record, expiry as a delayed job, votes only through Slack.
  const slack = slackSettings(config, options.roles);
  const slackClient = slack ? new WebClient(slack.botToken, webClientOptions(slack.apiUrl)) : undefined;
  const approvalStore = new ApprovalStore(command, { prefix, resultTtlSeconds: config.AIRLOCK_RESULT_TTL_SECONDS, clock });
  const expiry = new ApprovalsQueue(connect('approvals-queue', true), prefix, clock);
  closers.push(() => expiry.close());
  const executeQueue = new ExecuteQueue(connect('queue', true), prefix);
  closers.push(() => executeQueue.close());
  // The outbox queue exists in every process: a worker without Slack settings still tells the
  // Slack role when a query that has a card finishes. Only processes with Slack settings start cards.
  const slackQueue = new SlackQueue(connect('slack-queue', true), prefix);
  closers.push(() => slackQueue.close());
  const cards: CardNotifier | undefined = slack ? slackQueue : undefined;
  // Only the user groups named by the policy's approvers or by AIRLOCK_SLACK_REVIEWERS are ever looked up.
  const usergroups = QueryAccess.usergroupsOf(policy.file.approvers, config.AIRLOCK_SLACK_REVIEWERS);
  const slackDirectory = slackClient ? new SlackDirectory({ client: slackClient, usergroups }) : undefined;
  const directory: Directory = slackDirectory ?? {
    usergroupsOf: async () => {
      throw new AirlockError('SLACK_UNAVAILABLE', 'Slack is not configured (SLACK_BOT_TOKEN); nobody can approve.');
    },
  };
  // Who may read queries with /airlock: approvers and AIRLOCK_SLACK_REVIEWERS (docs/approvals.md).
  const access = new QueryAccess({ approvers: policy.file.approvers, reviewers: config.AIRLOCK_SLACK_REVIEWERS, directory });
  const approvals = new ApprovalService({
    store: approvalStore,
    queries: store,
    queue: executeQueue,
    directory,
    approvers: policy.file.approvers,
    logger: logger.child({ component: 'approvals' }),
    expiry,
    audit,
    aliases: config.AIRLOCK_IDENTITY_ALIASES,
    ownerless: config.AIRLOCK_OWNERLESS_TOKENS,
    clock,
  });

  let api: FastifyInstance | undefined;
  let worker: Worker | undefined;
  let warehouse: Warehouse | undefined;

  if (options.roles.includes('worker')) {
    warehouse = options.warehouse ?? (await warehouseFromConfig(config, logger));
    const masking = createResultMasker({
      defaults: { database: (config.SNOWFLAKE_DATABASE ?? policy.file.defaults.database ?? 'ANALYTICS').toUpperCase(), schema: (config.SNOWFLAKE_SCHEMA ?? policy.file.defaults.schema ?? 'PUBLIC').toUpperCase() },
      catalog: catalogLookup(policy.file.sensitive),
      config: { hashKey: maskingKey(config, logger, options.maskingKey), strategies: policy.file.masking.strategies },
    });
    const execution = new ExecutionService({
      store,
      notifier,
      warehouse,
      logger: logger.child({ component: 'worker' }),
      limits: {
        statementTimeoutMs: config.AIRLOCK_STATEMENT_TIMEOUT_MS,
        maxRows: config.AIRLOCK_MAX_ROWS,
        caps: { maxCells: config.AIRLOCK_MAX_RESULT_CELLS, maxBytes: config.AIRLOCK_MAX_RESULT_BYTES, maxCellBytes: config.AIRLOCK_MAX_CELL_BYTES },
      },
      cards: slackQueue,
      masking,
      audit,
      workerName: hostname(),
      clock,
    });
    const expiryWorker = startApprovalsWorker({
      connection: connect('approvals-worker', true),
      prefix,
      handle: async (id) => {
        const result = await approvals.expireOrWait(id);
        if (result.record?.approval?.card) await slackQueue.changed(id, 'expired');
        return result;
      },
    });
    expiryWorker.on('error', (err) => logger.warn({ component: 'approvals', err: err.message }, 'expiry worker error'));
    closers.push(() => expiryWorker.close());
    // The session log's export (docs/audit.md): one schedule per install, whichever worker starts last sets the interval.
    const exportQueue = new AuditExportQueue(connect('audit-export-queue', true), prefix);
    closers.push(() => exportQueue.close());
    const everySeconds = config.AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS;
    if (everySeconds > 0) {
      const exportStore = exportStoreFromConfig(config);
      const exportLogger = logger.child({ component: 'audit-export' });
      const exportWorker = startAuditExportWorker({
        connection: connect('audit-export-worker', true),
        prefix,
        logger: exportLogger,
        run: () =>
          runScheduledExport({
            log: auditReader,
            store: exportStore,
            windowMs: config.AIRLOCK_AUDIT_EXPORT_WINDOW_SECONDS * 1000,
            ocsf: config.AIRLOCK_AUDIT_OCSF,
            retentionMs: config.AIRLOCK_AUDIT_RETENTION_SECONDS * 1000,
            logger: exportLogger,
          }),
      });
      exportWorker.on('error', (err) => exportLogger.warn({ err: err.message }, 'audit export worker error'));
      closers.push(() => exportWorker.close());
      await exportQueue.schedule(everySeconds * 1000);
      logger.info({ component: 'audit-export', everySeconds, store: exportStore.description }, 'audit export scheduled');
    } else {
      await exportQueue.unschedule();
      logger.info({ component: 'audit-export' }, 'audit export schedule off (AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS=0); run `airlock audit export` instead');
    }
    worker = startExecuteWorker({
      connection: connect('worker', true),
      prefix,
      concurrency: config.AIRLOCK_WORKER_CONCURRENCY,
      handle: (id, attempt) => execution.execute(id, attempt),
    });
    worker.on('error', (err) => logger.warn({ component: 'worker', err: err.message }, 'worker error'));
    const w = worker;
    const wh = warehouse;
    closers.push(async () => {
      // Let running statements finish for a grace period, then cancel them: reads go back to the queue
      // for another worker, writes end cancelled (never re-run blindly).
      const grace = setTimeout(() => execution.abortAll(), config.AIRLOCK_SHUTDOWN_GRACE_SECONDS * 1000);
      await w.close();
      clearTimeout(grace);
      await wh.close();
    });
  }

  // The Slack outbox runs where Slack work runs: the worker or the slack role.
  if (slack?.channel && slackClient && (options.roles.includes('worker') || options.roles.includes('slack'))) {
    const sync = new CardSync({ client: slackClient, channel: slack.channel, queries: store, approvals: approvalStore, redis: command, prefix, logger: logger.child({ component: 'slack' }), audit, now: clock });
    const slackWorker = startSlackWorker({ connection: connect('slack-worker', true), prefix, logger: logger.child({ component: 'slack' }), sync: (id) => sync.sync(id) });
    slackWorker.on('error', (err) => logger.warn({ component: 'slack', err: err.message }, 'slack worker error'));
    closers.push(() => slackWorker.close());
  }

  // Every role serves /healthz, /readyz and /metrics; only the api role serves /v1.
  {
    let queries: QueryService | undefined;
    if (options.roles.includes('api')) {
      queries = new QueryService({
        store,
        notifier,
        queue: executeQueue,
        evaluate,
        audit,
        approvals,
        ...(cards ? { cards } : {}),
        logger: logger.child({ component: 'queries' }),
        limits: { maxWaitMs: config.AIRLOCK_MAX_WAIT_MS, maxSqlBytes: config.AIRLOCK_MAX_SQL_BYTES, inlineRows: 1000 },
        clock,
      });
    }
    // Slack's requests are received by the slack role, and by the api role when it has the signing secret.
    const receives = slack && (options.roles.includes('slack') || (options.roles.includes('api') && (slack.signingSecret || slack.appToken)));
    const receiver =
      receives && slack.signingSecret && !slack.appToken
        ? new FastifySlackReceiver({ signingSecret: slack.signingSecret, logger: logger.child({ component: 'slack' }), now: () => clock().getTime() })
        : undefined;
    let boltApp: ReturnType<typeof createSlackApp> | undefined;
    if (receives && slack) {
      boltApp = createSlackApp({
        botToken: slack.botToken,
        ...(slack.appToken ? { appToken: slack.appToken } : {}),
        ...(slack.apiUrl ? { apiUrl: slack.apiUrl } : {}),
        ...(receiver ? { receiver } : {}),
        approvals,
        queries: store,
        cards: slackQueue,
        ...(slackDirectory ? { emailOf: (id: string) => slackDirectory.emailOf(id) } : {}),
        access,
        logger: logger.child({ component: 'slack' }),
        sessions: auditSearch,
      });
      if (slack.appToken) {
        const socket = boltApp;
        // Socket Mode connects out to Slack; a failure is logged and retried by the client, never fatal.
        socket.start().catch((err: Error) => logger.error({ component: 'slack', err: err.message }, 'socket mode failed to start'));
        closers.push(() => socket.stop());
      }
    }
    api = buildApi({
      ...(receiver && boltApp ? { mount: (server) => receiver.register(server) } : {}),
      ...(queries ? { queries } : {}),
      ...(queries ? { sessions: new SessionAccess(auditSearch, { reviewerGroups: config.AIRLOCK_REVIEWER_GROUPS, reviewerScope: config.AIRLOCK_REVIEWER_SCOPE }) } : {}),
      authenticator: requireOwnerWhenAsked(config, options.authenticator ?? authenticatorFromConfig(config, options)),
      evaluate,
      logger,
      bodyLimitBytes: config.AIRLOCK_BODY_LIMIT_BYTES,
      trustProxy: config.AIRLOCK_TRUST_PROXY,
      maxSqlBytes: config.AIRLOCK_MAX_SQL_BYTES,
      readiness: async () => {
        const redis = await command
          .ping()
          .then((r) => r === 'PONG')
          .catch(() => false);
        return { redis };
      },
    });
    const a = api;
    closers.unshift(() => a.close());
  }

  return {
    api,
    worker,
    async listen() {
      if (!api) return undefined;
      await api.listen({ host: config.AIRLOCK_HOST, port: config.AIRLOCK_PORT });
      const address = api.server.address();
      const port = typeof address === 'object' && address ? address.port : config.AIRLOCK_PORT;
      return `http://${config.AIRLOCK_HOST}:${port}`;
    },
    async close() {
      for (const close of closers) await close().catch((err: unknown) => logger.warn({ err }, 'error while closing'));
      await notifier.close();
      for (const c of connections) c.disconnect();
    },
  };
}
