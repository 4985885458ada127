/**
 * The worker role: runs approved statements on the warehouse, masks their
 * results, expires reviews that are due and exports the session log on a
 * schedule. Needs SNOWFLAKE_* (or a warehouse passed in).
 */
import { hostname } from 'node:os';
import { exportStoreFromConfig } from '../export-store.ts';
import { isLarge } from '../../analysis/offload.ts';
import { createResultMasker, type ResultMasker } from '../../masking/service.ts';
import { defaultsOf } from '../../policy/analyse.ts';
import { connectionNamespace } from '../../policy/session-defaults.ts';
import { catalogLookup } from '../../policy/engine.ts';
import type { ParsedPolicy } from '../../policy/schema.ts';
import { ExecutionService } from '../../queries/execution.ts';
import type { LocalRunner } from '../../queries/ports.ts';
import { IntakeReconciler } from '../../queries/reconciler.ts';
import { startApprovalsWorker } from '../../queue/approvals-queue.ts';
import { AuditExportQueue, runScheduledExport, startAuditExportWorker } from '../../queue/audit-export-queue.ts';
import { logQueueErrors } from '../../queue/error-log.ts';
import { EXECUTE_LEASE_MS, localRunner, startLaneWorker, type LaneWorker } from '../../queue/execute-lane.ts';
import { adoptOldExecuteJobs } from '../../queue/execute-upgrade.ts';
import type { Warehouse } from '../../warehouse/port.ts';
import { maskingKey, warehouseFromConfig } from '../adapters.ts';
import type { Core } from '../core.ts';
import { warehouseLoginCheck } from '../readiness.ts';
import { followKeyFile } from '../key-rotation.ts';
import type { Running } from './role.ts';

/** What the worker role may be given instead of building it from the config. */
export interface WorkerRoleOptions {
  /** Replace the warehouse built from SNOWFLAKE_* (benches and tests pass their own). */
  warehouse?: Warehouse;
  /** Decorate the warehouse (tests count what reaches it; benches time it). */
  wrapWarehouse?: (warehouse: Warehouse) => Warehouse;
  /** HMAC key for masking tokens when AIRLOCK_MASKING_KEY is unset (dev keeps one on disk). */
  maskingKey?: Buffer;
}

/** The started worker role: the execute lane's worker, its slots for the API of the same process, and how the whole role stops. */
export interface WorkerRole extends Running {
  worker: LaneWorker;
  local: LocalRunner;
}

/** Start the worker role on the core. */
export async function startWorkerRole(core: Core, options: WorkerRoleOptions): Promise<WorkerRole> {
  const { config, logger } = core;
  // The connection's current database and schema are where the policy in force resolves names, and follow it on a reload.
  const session = { database: config.SNOWFLAKE_DATABASE, schema: config.SNOWFLAKE_SCHEMA };
  const fromConfig = options.warehouse ? undefined : await warehouseFromConfig(config, logger, connectionNamespace(core.policy.current.file, session));
  if (fromConfig) core.policy.onChange((next) => fromConfig.useNamespace(connectionNamespace(next.file, session)));
  const built = options.warehouse ?? fromConfig!;
  const warehouse = options.wrapWarehouse ? options.wrapWarehouse(built) : built;
  const execution = executionService(core, warehouse, options.maskingKey);
  const stops: Running[] = [startExpiryWorker(core), startReconciler(core), ...(await scheduleAuditExport(core))];
  // A rotated key file is picked up without a restart (docs/operations.md).
  if (fromConfig && config.SNOWFLAKE_PRIVATE_KEY_PATH) stops.push(followKeyFile(core, fromConfig, config.SNOWFLAKE_PRIVATE_KEY_PATH));
  // An install upgraded from the BullMQ execute queue: what that queue still holds moves into the lane (docs/deployment.md).
  await adoptOldExecuteJobs({ connection: core.command, prefix: config.AIRLOCK_REDIS_PREFIX, lane: core.executeQueue, logger }).catch((err: unknown) =>
    logger.error({ component: 'worker', err: err instanceof Error ? err.message : String(err) }, 'upgrade: could not move the old execute queue into the lane; retried at the next start'),
  );
  const worker = startLaneWorker({
    blocking: core.connect('worker', true),
    command: core.command,
    prefix: config.AIRLOCK_REDIS_PREFIX,
    concurrency: config.AIRLOCK_WORKER_CONCURRENCY,
    logger,
    handle: async (id) => void (await execution.execute(id)),
  });
  return {
    worker,
    local: localRunner(worker, (id, opts) => execution.execute(id, opts)),
    // The warehouse as built, not a test's decorator: probes are not agents' statements.
    readiness: { warehouse: warehouseLoginCheck(built) },
    async stop() {
      for (const part of stops) await part.stop().catch((err: unknown) => logger.warn({ err }, 'error while closing'));
      // Let running statements finish for a grace period, then cancel them: reads go back to the queue
      // for another worker, writes end cancelled (never re-run blindly).
      const grace = setTimeout(() => execution.abortAll(), config.AIRLOCK_SHUTDOWN_GRACE_SECONDS * 1000);
      await worker.close();
      clearTimeout(grace);
      await warehouse.close();
    },
  };
}

/**
 * Results masked by the catalog and strategies of the policy in force: a
 * masker per policy version, replaced when the policy file changes, so a job
 * started after a reload masks by the new catalog.
 */
function liveMasker(core: Core, hashKey: Buffer): ResultMasker {
  const { policy, analysis, config } = core;
  const build = (p: ParsedPolicy): ResultMasker => {
    // The policy in force already holds the connection's database and schema (live-policy.ts), so masking resolves names as the policy does.
    const defaults = defaultsOf(p.file);
    return createResultMasker({
      defaults,
      catalog: catalogLookup(p.file.sensitive),
      config: { hashKey, strategies: p.file.masking.strategies },
      // A large statement's lineage is traced on the analysis threads, so parsing it does not stall this worker's other jobs.
      offloadLineage: (sql) => (isLarge(sql, config.AIRLOCK_ANALYSIS_OFFLOAD_BYTES) ? analysis.lineage(sql, defaults) : undefined),
    });
  };
  let masker = build(policy.current);
  policy.onChange((next) => {
    masker = build(next);
  });
  return { begin: (sql, columns, rows) => masker.begin(sql, columns, rows), text: (message) => masker.text(message) };
}

/** Statements run on `warehouse`, results masked by the policy in force. */
function executionService(core: Core, warehouse: Warehouse, givenKey: Buffer | undefined): ExecutionService {
  const { config, logger } = core;
  const masking = liveMasker(core, maskingKey(config, logger, givenKey));
  return new ExecutionService({
    store: core.store,
    notifier: core.notifier,
    warehouse,
    logger: logger.child({ component: 'worker' }),
    limits: {
      statementTimeoutMs: config.AIRLOCK_STATEMENT_TIMEOUT_MS,
      maxRows: config.AIRLOCK_MAX_ROWS,
      caps: { maxCells: config.AIRLOCK_MAX_RESULT_CELLS, maxBytes: config.AIRLOCK_MAX_RESULT_BYTES, maxCellBytes: config.AIRLOCK_MAX_CELL_BYTES },
    },
    cards: core.slackQueue,
    masking,
    audit: core.audit,
    // Host and process: which worker ran a statement, in the session log's execution_started.
    workerName: `${hostname()}:${process.pid}`,
    clock: core.clock,
    leaseMs: EXECUTE_LEASE_MS,
    namespace: () => defaultsOf(core.policy.current.file),
  });
}

/** How often the intake reconciler looks for accepted queries whose first steps did not finish. */
const RECONCILE_EVERY_MS = 2000;

/** The intake reconciler (queries/reconciler.ts): enqueues or opens what a submit accepted but could not hand on. */
function startReconciler(core: Core): Running {
  const reconciler = new IntakeReconciler({
    store: core.store,
    queue: core.executeQueue,
    logger: core.logger.child({ component: 'reconciler' }),
    approvals: core.approvals,
    ...(core.cards ? { cards: core.cards } : {}),
    audit: core.audit,
    now: () => core.clock().getTime(),
  });
  return reconciler.start(RECONCILE_EVERY_MS);
}

/** Reviews expire as delayed jobs; a card, if any, is told. */
function startExpiryWorker(core: Core): Running {
  const expiryWorker = startApprovalsWorker({
    connection: core.connect('approvals-worker', true),
    prefix: core.config.AIRLOCK_REDIS_PREFIX,
    handle: async (id) => {
      const result = await core.approvals.expireOrWait(id);
      if (result.record?.approval?.card) await core.slackQueue.changed(id, 'expired');
      return result;
    },
  });
  logQueueErrors(expiryWorker, core.logger, { component: 'approvals', queue: 'approvals' });
  return { stop: () => expiryWorker.close() };
}

/** The session log's export (docs/audit.md): one schedule per install, whichever worker starts last sets the interval. */
async function scheduleAuditExport(core: Core): Promise<Running[]> {
  const { config, logger } = core;
  const prefix = config.AIRLOCK_REDIS_PREFIX;
  const exportQueue = new AuditExportQueue(core.connect('audit-export-queue', true), prefix).logErrors(logger);
  const everySeconds = config.AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS;
  if (everySeconds === 0) {
    await exportQueue.unschedule();
    logger.info({ component: 'audit-export' }, 'audit export schedule off (AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS=0); run `airlock audit export` instead');
    return [{ stop: () => exportQueue.close() }];
  }
  const exportStore = exportStoreFromConfig(config);
  const exportLogger = logger.child({ component: 'audit-export' });
  const exportWorker = startAuditExportWorker({
    connection: core.connect('audit-export-worker', true),
    prefix,
    logger: exportLogger,
    run: () =>
      runScheduledExport({
        log: core.auditReader,
        store: exportStore,
        windowMs: config.AIRLOCK_AUDIT_EXPORT_WINDOW_SECONDS * 1000,
        ocsf: config.AIRLOCK_AUDIT_OCSF,
        retentionMs: config.AIRLOCK_AUDIT_RETENTION_SECONDS * 1000,
        logger: exportLogger,
      }),
  });
  logQueueErrors(exportWorker, exportLogger, { component: 'audit-export', queue: 'audit-export' });
  await exportQueue.schedule(everySeconds * 1000);
  logger.info({ component: 'audit-export', everySeconds, store: exportStore.description }, 'audit export scheduled');
  return [{ stop: () => exportQueue.close() }, { stop: () => exportWorker.close() }];
}
