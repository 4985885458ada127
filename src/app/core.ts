/**
 * The core every role shares: the policy, the Redis connections, the stores,
 * the queues and the services. Built once per process by {@link buildCore};
 * the roles (`roles/api.ts`, `roles/worker.ts`, `roles/slack.ts`) take it and
 * add their listeners and workers. No state lives only in process memory.
 */
import type { Redis } from 'ioredis';
import type { WebClient } from '@slack/web-api';
import { systemClock, type Clock } from '../clock.ts';
import type { Config } from '../config/env.ts';
import { loadConfiguredPolicy, policyPathFrom } from '../config/policy-file.ts';
import { AirlockError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { ApprovalService, type Directory } from '../approvals/service.ts';
import { ApprovalStore } from '../approvals/store.ts';
import { offloadingEvaluate } from '../analysis/offload.ts';
import { AnalysisPool } from '../analysis/pool.ts';
import type { AuditLog } from '../audit/log.ts';
import type { RedisAuditLog } from '../audit/redis-log.ts';
import { AuditSearch } from '../audit/search.ts';
import type { ParsedPolicy } from '../policy/schema.ts';
import type { CardNotifier } from '../queries/ports.ts';
import { Notifier } from '../queries/notifier.ts';
import type { Evaluate } from '../queries/service.ts';
import { QueryStore } from '../queries/store.ts';
import { ApprovalsQueue } from '../queue/approvals-queue.ts';
import { ExecuteLane } from '../queue/execute-lane.ts';
import { SlackQueue } from '../queue/slack-queue.ts';
import { QueryAccess } from '../slack/access.ts';
import { SlackDirectory } from '../slack/directory.ts';
import { slackClient, slackSettings, type SlackSettings } from './adapters.ts';
import { livePolicy, type LivePolicy } from './live-policy.ts';
import { redisConnection, sessionLog } from './redis.ts';
import type { Role } from './roles/role.ts';

/** What the core is built from besides the config. */
export interface CoreOptions {
  logger: Logger;
  /** The roles that will run on this core: the Slack settings each needs are checked up front. */
  roles: readonly Role[];
  /** Use this policy instead of loading AIRLOCK_POLICY (or the shipped default). */
  policy?: ParsedPolicy;
  /** Replace the Redis audit log (tests use a failing one to prove the fail-closed paths). */
  auditLog?: AuditLog;
  /** The one clock every store, service, card sync and the Slack receiver read (default: the wall clock). */
  clock?: Clock;
}

/** The adapters and services shared by every role. */
export interface Core {
  config: Config;
  logger: Logger;
  clock: Clock;
  /** The policy in force, swapped when AIRLOCK_POLICY's file changes (docs/operations.md); read `policy.current` at use. */
  policy: LivePolicy;
  evaluate: Evaluate;
  /** The analysis threads (docs/reliability.md): the API role decides large statements there, the worker traces their lineage. */
  analysis: AnalysisPool;
  /** A new named connection, closed with the core. */
  connect(name: string, forQueue?: boolean): Redis;
  /** The connection for our own commands (stores, readiness). */
  command: Redis;
  store: QueryStore;
  notifier: Notifier;
  /** The session log as written (fails closed). */
  audit: AuditLog;
  /** The session log in Redis, as read by search and export. */
  auditReader: RedisAuditLog;
  auditSearch: AuditSearch;
  /** Set when SLACK_BOT_TOKEN is. */
  slack?: SlackSettings;
  slackClient?: WebClient;
  slackDirectory?: SlackDirectory;
  access: Pick<QueryAccess, 'readerOf'>;
  approvalStore: ApprovalStore;
  expiry: ApprovalsQueue;
  executeQueue: ExecuteLane;
  /** The card outbox: present in every process, so a worker without Slack settings still reports finished queries. */
  slackQueue: SlackQueue;
  /** The outbox as the query service sees it: only where Slack is on. */
  cards?: CardNotifier;
  approvals: ApprovalService;
  /** What this process re-reads on SIGHUP (the policy file; the worker role adds its Snowflake key file). */
  reloads: Array<() => Promise<void>>;
  /** Prometheus lines for /metrics naming what this process runs now (the policy version; the worker adds its key). */
  info: Array<() => string[] | Promise<string[]>>;
  /** Close the queues, the notifier and every connection. */
  close(): Promise<void>;
}

/** Redis connections opened by name, all closed together. */
function connections(config: Config, logger: Logger) {
  const opened: Redis[] = [];
  return {
    connect(name: string, forQueue = false): Redis {
      const c = redisConnection(config, name, forQueue ? 'queue' : 'command');
      c.on('error', (err: Error) => logger.warn({ component: 'redis', connection: name, err: err.message }, 'redis connection error'));
      opened.push(c);
      return c;
    },
    disconnect(): void {
      for (const c of opened) c.disconnect();
    },
  };
}

/** The Slack directory when Slack is on; otherwise one that refuses, so nobody can approve. */
function directoryOf(slackDirectory: SlackDirectory | undefined): Directory {
  return (
    slackDirectory ?? {
      usergroupsOf: async () => {
        throw new AirlockError('SLACK_UNAVAILABLE', 'Slack is not configured (SLACK_BOT_TOKEN); nobody can approve.');
      },
    }
  );
}

const POLICY_INFO_HELP = ['# HELP airlock_policy_info The policy version this process decides with.', '# TYPE airlock_policy_info gauge'];

/** The execute lane's depth as a gauge (install-wide: every replica reports the same); nothing while Redis does not answer. */
async function laneDepth(lane: ExecuteLane): Promise<string[]> {
  try {
    const depth = await lane.depth();
    return [
      '# HELP airlock_execute_lane_queries Queries in the execute lane: waiting for a worker (ready), running under a lease (running), due to be looked at again (delayed: pickup backstops and retries).',
      '# TYPE airlock_execute_lane_queries gauge',
      ...(['ready', 'running', 'delayed'] as const).map((state) => `airlock_execute_lane_queries{state="${state}"} ${depth[state]}`),
    ];
  } catch {
    return [];
  }
}

/** One Prometheus sample of value 1 with labels (an "info" metric), label values escaped. */
export function metricLine(name: string, labels: Record<string, string>): string {
  const escaped = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${escaped(v)}"`).join(',')}} 1`;
}

/** Who may read queries with /airlock, rebuilt from each policy version's approvers. */
function queryAccess(policy: LivePolicy, config: Config, directory: Directory): Pick<QueryAccess, 'readerOf'> {
  const build = () => new QueryAccess({ approvers: policy.current.file.approvers, reviewers: config.AIRLOCK_SLACK_REVIEWERS, directory });
  let access = build();
  policy.onChange(() => {
    access = build();
  });
  // One object for the slack role to keep; each call goes to the access of the policy in force.
  return { readerOf: (slackUserId) => access.readerOf(slackUserId) };
}

/** The policy in force: loaded (or given), following its file's changes, with the connection's names as its defaults. */
async function policyOf(config: Config, options: CoreOptions): Promise<LivePolicy> {
  const { logger } = options;
  const loaded = options.policy ?? (await loadConfiguredPolicy(config));
  // A policy loaded from its file follows the file's changes; one given in code stays as it is.
  const policy = livePolicy(loaded, {
    logger,
    ...(options.policy ? {} : { file: policyPathFrom(config) }),
    pollMs: config.AIRLOCK_RELOAD_POLL_SECONDS * 1000,
    session: { database: config.SNOWFLAKE_DATABASE, schema: config.SNOWFLAKE_SCHEMA },
  });
  logger.info({ policy: loaded.file.name ?? null, version: policy.current.version, rules: loaded.file.rules.length }, 'policy loaded');
  return policy;
}

/**
 * Decisions by the policy in force: small statements in process, large ones
 * on worker threads so they cannot stall the event loop (docs/reliability.md).
 */
function decisionsOf(config: Config, policy: LivePolicy, logger: Logger): { analysis: AnalysisPool; evaluate: Evaluate } {
  const analysis = new AnalysisPool({
    threads: config.AIRLOCK_ANALYSIS_THREADS,
    queueLimit: config.AIRLOCK_ANALYSIS_QUEUE,
    timeoutMs: config.AIRLOCK_ANALYSIS_TIMEOUT_MS,
    logger,
  });
  const decide = offloadingEvaluate({
    inProcess: (sql, ctx) => policy.engine.evaluate(sql, ctx),
    current: () => policy.current,
    pool: analysis,
    thresholdBytes: config.AIRLOCK_ANALYSIS_OFFLOAD_BYTES,
  });
  return { analysis, evaluate: (sql, requester) => decide(sql, { agent: requester.id, groups: requester.groups }) };
}

/**
 * Slack's people directory: only the user groups named by the policy's
 * approvers or by AIRLOCK_SLACK_REVIEWERS are ever looked up. A getter, so a
 * reloaded policy's approver groups apply to the next vote and lookup.
 */
function directoryFor(client: WebClient, policy: LivePolicy, config: Config): SlackDirectory {
  return new SlackDirectory({
    client,
    get usergroups() {
      return QueryAccess.usergroupsOf(policy.current.file.approvers, config.AIRLOCK_SLACK_REVIEWERS);
    },
  });
}

/** Build the adapters and services every role shares. */
export async function buildCore(config: Config, options: CoreOptions): Promise<Core> {
  const { logger } = options;
  // The policy comes first: an invalid file stops start-up, every problem listed, before any connection opens.
  const policy = await policyOf(config, options);
  const prefix = config.AIRLOCK_REDIS_PREFIX;
  const redis = connections(config, logger);
  const { connect } = redis;
  const command = connect('command');
  const clock = options.clock ?? systemClock;
  const store = new QueryStore(command, { prefix, resultTtlSeconds: config.AIRLOCK_RESULT_TTL_SECONDS, clock });
  const notifier = new Notifier(connect('subscriber'), command, prefix);
  const { analysis, evaluate } = decisionsOf(config, policy, logger);

  // The session log (docs/audit.md): received/decided/execution_started fail closed.
  const auditReader = sessionLog(config, command);
  const audit = options.auditLog ?? auditReader;

  // Approvals: state on the query record, expiry as a delayed job, votes only through Slack.
  const slack = slackSettings(config, options.roles);
  const client = slackClient(slack);
  const approvalStore = new ApprovalStore(command, { prefix, resultTtlSeconds: config.AIRLOCK_RESULT_TTL_SECONDS, clock });
  const expiry = new ApprovalsQueue(connect('approvals-queue', true), prefix, clock).logErrors(logger);
  // Accepted queries reach a worker through the execute lane (queue/execute-lane.ts), on the command connection.
  const executeQueue = new ExecuteLane(command, prefix);
  const slackQueue = new SlackQueue(connect('slack-queue', true), prefix).logErrors(logger);
  const slackDirectory = client ? directoryFor(client, policy, config) : undefined;
  const directory = directoryOf(slackDirectory);
  const approvals = new ApprovalService({
    store: approvalStore,
    queries: store,
    queue: executeQueue,
    directory,
    get approvers() {
      return policy.current.file.approvers;
    },
    logger: logger.child({ component: 'approvals' }),
    expiry,
    audit,
    aliases: config.AIRLOCK_IDENTITY_ALIASES,
    ownerless: config.AIRLOCK_OWNERLESS_TOKENS,
    clock,
  });

  return {
    config,
    logger,
    clock,
    policy,
    evaluate,
    analysis,
    connect,
    command,
    store,
    notifier,
    audit,
    auditReader,
    auditSearch: new AuditSearch(auditReader),
    ...(slack ? { slack } : {}),
    ...(client ? { slackClient: client } : {}),
    ...(slackDirectory ? { slackDirectory } : {}),
    // Who may read queries with /airlock: approvers and AIRLOCK_SLACK_REVIEWERS (docs/approvals.md).
    access: queryAccess(policy, config, directory),
    approvalStore,
    expiry,
    executeQueue,
    slackQueue,
    ...(slack ? { cards: slackQueue } : {}),
    approvals,
    reloads: [() => policy.check()],
    info: [() => [...POLICY_INFO_HELP, metricLine('airlock_policy_info', { name: policy.current.file.name ?? '', version: policy.current.version })], () => laneDepth(executeQueue)],
    async close() {
      for (const close of [() => expiry.close(), () => slackQueue.close()]) {
        await close().catch((err: unknown) => logger.warn({ err }, 'error while closing'));
      }
      await notifier.close();
      await analysis.close();
      policy.close();
      redis.disconnect();
    },
  };
}
