/**
 * A query runs only where its unqualified names were resolved when it was
 * decided: the submit keeps the policy's namespace on the record, and a
 * worker whose policy now resolves names elsewhere (a reload moved
 * `defaults.database` / `defaults.schema` while the query waited) ends it
 * NAMESPACE_CHANGED without calling the warehouse. Real Redis, store, service
 * and execution; the warehouse is a stand-in that counts statements (what
 * matters is whether it is called).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createPolicyEngine, type PolicyEngine } from '../../src/policy/engine.ts';
import { ExecutionService } from '../../src/queries/execution.ts';
import { Notifier } from '../../src/queries/notifier.ts';
import { QueryService } from '../../src/queries/service.ts';
import { QueryStore } from '../../src/queries/store.ts';
import type { Namespace, Requester } from '../../src/queries/types.ts';
import type { Warehouse } from '../../src/warehouse/port.ts';
import { shippedPolicy } from '../support/policies.ts';
import { cleanupPrefix, redisConnections, uniquePrefix } from '../support/redis.ts';

const prefix = uniquePrefix('ns-pin');
const connections = redisConnections();
const logger = createLogger({ level: 'silent' });
const agent: Requester = { id: 'agent-n', name: 'agent-n', groups: [] };
const READ = 'select customer_id from customers where customer_id = 1';
const DECIDED: Namespace = { database: 'ANALYTICS', schema: 'PUBLIC' };

let engine: PolicyEngine;
let store: QueryStore;
let notifier: Notifier;
let calls = 0;
const warehouse: Warehouse = {
  execute: async () => {
    calls++;
    return { queryId: randomUUID(), columns: [{ name: 'CUSTOMER_ID', type: 'fixed', nullable: false }], rows: (async function* () { yield ['1']; })(), truncated: false };
  },
  close: async () => undefined,
};

function submitter(): QueryService {
  const queue = { enqueue: async () => undefined, remove: async () => false };
  return new QueryService({ store, notifier, queue, evaluate: (sql) => engine.evaluate(sql), logger, limits: { maxWaitMs: 1000, maxSqlBytes: 100_000, inlineRows: 10 }, namespace: () => DECIDED });
}

function worker(namespace: Namespace): ExecutionService {
  return new ExecutionService({ store, notifier, warehouse, logger, limits: { statementTimeoutMs: 5000, maxRows: 10 }, leaseMs: 5000, namespace: () => namespace });
}

beforeAll(async () => {
  engine = createPolicyEngine(await shippedPolicy());
  const command = connections.connect();
  store = new QueryStore(command, { prefix, resultTtlSeconds: 60 });
  notifier = new Notifier(connections.connect(), command, prefix);
});

afterAll(async () => {
  await notifier.close();
  connections.disconnectAll();
  await cleanupPrefix(prefix);
});

describe('the namespace a query was decided in', () => {
  it('is kept on the record, and a worker resolving names there runs it', async () => {
    const view = await submitter().submit(agent, { sql: READ });
    expect((await store.get(view.id))?.resolvedIn).toEqual(DECIDED);
    const before = calls;
    await worker({ ...DECIDED }).execute(view.id);
    expect(calls - before).toBe(1);
    expect((await store.get(view.id))?.status).toBe('succeeded');
  });

  it('a worker whose policy now resolves names elsewhere ends it NAMESPACE_CHANGED and never calls the warehouse', async () => {
    const view = await submitter().submit(agent, { sql: READ });
    const before = calls;
    await worker({ database: 'ANALYTICS', schema: 'STAGING' }).execute(view.id);
    expect(calls - before).toBe(0);
    const record = await store.get(view.id);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'NAMESPACE_CHANGED' } });
    expect(record?.error?.message).toMatch(/ANALYTICS\.STAGING.*ANALYTICS\.PUBLIC/);
  });
});
