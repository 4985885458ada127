/**
 * An API with the worker role in the same process runs an accepted query in
 * a free worker slot and answers from that run (queries/service.ts `ranHere`,
 * app/roles/worker.ts `localRunner`): the answer must be what a read of the
 * store gives — same rows, same cursor to the next page — and a busy worker
 * sends the query through the lane instead. Real Redis, the real store,
 * service, execution and lane worker; the warehouse is a stand-in that returns
 * numbered rows (what is under test is the hand-over, not the driver).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { ExecutionService } from '../../src/queries/execution.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { Notifier } from '../../src/queries/notifier.ts';
import type { LocalRunner } from '../../src/queries/ports.ts';
import { QueryService } from '../../src/queries/service.ts';
import { QueryStore } from '../../src/queries/store.ts';
import type { Requester } from '../../src/queries/types.ts';
import { ExecuteLane, localRunner, startLaneWorker, type LaneWorker } from '../../src/queue/execute-lane.ts';
import type { Warehouse } from '../../src/warehouse/port.ts';
import { shippedPolicy } from '../support/policies.ts';
import { createPolicyEngine, type PolicyEngine } from '../../src/policy/engine.ts';
import { cleanupPrefix, redisConnections, uniquePrefix } from '../support/redis.ts';

const prefix = uniquePrefix('local-run');
const connections = redisConnections();
const logger = createLogger({ level: 'silent' });
const agent: Requester = { id: 'agent-l', name: 'agent-l', groups: [] };
const READ = 'select customer_id, segment from analytics.public.customers';

let engine: PolicyEngine;
let store: QueryStore;
let notifier: Notifier;
let lane: ExecuteLane;
let worker: LaneWorker;
let calls = 0;
/** Rows the stand-in warehouse answers with. */
let rowCount = 5;

const warehouse: Warehouse = {
  execute: async () => {
    calls++;
    const n = rowCount;
    return {
      queryId: randomUUID(),
      columns: [
        { name: 'CUSTOMER_ID', type: 'fixed', nullable: false },
        { name: 'SEGMENT', type: 'text', nullable: true },
      ],
      rows: (async function* () {
        for (let i = 1; i <= n; i++) yield [String(i), i % 2 ? 'retail' : 'b2b'];
      })(),
      truncated: false,
    };
  },
  close: async () => undefined,
};

/** The runner `airlock serve` gives the API when the worker role shares its process. */
function runner(execution: ExecutionService): LocalRunner {
  return localRunner(worker, (id, options) => execution.execute(id, options));
}

function service(local: LocalRunner | undefined, inlineRows = 1000): QueryService {
  return new QueryService({
    store,
    notifier,
    queue: lane,
    evaluate: (sql) => engine.evaluate(sql),
    logger,
    limits: { maxWaitMs: 5000, maxSqlBytes: 100_000, inlineRows },
    ...(local ? { local } : {}),
  });
}

let execution: ExecutionService;

beforeAll(async () => {
  engine = createPolicyEngine(await shippedPolicy());
  const command = connections.connect();
  store = new QueryStore(command, { prefix, resultTtlSeconds: 60 });
  notifier = new Notifier(connections.connect(), command, prefix);
  lane = new ExecuteLane(command, prefix);
  execution = new ExecutionService({ store, notifier, warehouse, logger, limits: { statementTimeoutMs: 5000, maxRows: 10_000 }, leaseMs: 5000 });
  worker = startLaneWorker({ blocking: connections.connect(), command: connections.connect(), prefix, concurrency: 1, logger, handle: async (id) => void (await execution.execute(id)) });
});

afterAll(async () => {
  await worker.close();
  await notifier.close();
  connections.disconnectAll();
  await cleanupPrefix(prefix);
});

describe('a query run in this process', () => {
  it('answers with the rows as stored, run once, without going through the lane', async () => {
    rowCount = 5;
    const before = calls;
    const view = await service(runner(execution)).submit(agent, { sql: READ, waitMs: 5000 });
    expect(view.status).toBe('succeeded');
    expect(calls - before).toBe(1);
    const stored = await store.readResult(view.id, 0, 1000, false);
    expect(view.result?.rows).toEqual(stored.rows);
    expect(view.result).toMatchObject({ rowCount: 5, offset: 0, truncated: false });
    expect(view.result?.nextCursor).toBeUndefined();
    // Nothing waits in the lane, and the query holds no lease or intake entry once done.
    const keys = queryKeys(prefix);
    const redis = connections.connect();
    expect(await redis.lpos(keys.ready, view.id)).toBeNull();
    expect(await redis.zscore(keys.leases, view.id)).toBeNull();
    expect(await redis.zscore(keys.intake, view.id)).toBeNull();
  });

  it('gives the same cursor to the next page as a read would, when the result is longer than the first page', async () => {
    rowCount = 7;
    const local = service(runner(execution), 3);
    const view = await local.submit(agent, { sql: READ, waitMs: 5000 });
    const read = await service(undefined, 3).get(agent, view.id);
    expect(view.result?.rows).toEqual(read.result?.rows);
    expect(view.result?.rows).toHaveLength(3);
    expect(view.result?.nextCursor).toBeDefined();
    expect(view.result?.nextCursor).toBe(read.result?.nextCursor);
    const next = await local.results(agent, view.id, view.result?.nextCursor, 10);
    expect(next.rows.map((r) => r[0])).toEqual(['4', '5', '6', '7']);
  });

  it('goes through the lane when every worker slot is busy, and still answers within the wait', async () => {
    rowCount = 2;
    let release: () => void = () => undefined;
    const held = worker.tryRun('busy', () => new Promise<void>((resolve) => (release = resolve)));
    expect(held).toBeDefined();
    const pending = service(runner(execution)).submit(agent, { sql: READ, waitMs: 5000 });
    // The slot frees shortly; the lane's worker then takes the id and the long-poll wakes.
    setTimeout(() => release(), 300);
    const view = await pending;
    expect(view.status).toBe('succeeded');
    expect(view.result?.rows).toHaveLength(2);
    await held;
  });
});
