
import { afterAll, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { ExecutionService } from '../../src/queries/execution.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { Notifier } from '../../src/queries/notifier.ts';
import { IntakeReconciler } from '../../src/queries/reconciler.ts';
import { QueryStore } from '../../src/queries/store.ts';
import { ExecuteLane, startLaneWorker, type LaneWorker } from '../../src/queue/execute-lane.ts';
import type { Warehouse } from '../../src/warehouse/port.ts';
import { ALLOWED_SELECT, queuedRead } from '../support/records.ts';
import { cleanupPrefix, redisConnections, uniquePrefix } from '../support/redis.ts';

const connections = redisConnections();
const logger = createLogger({ level: 'silent' });
const prefix = uniquePrefix('lane-lost');
const command = connections.connect();
const store = new QueryStore(command, { prefix, resultTtlSeconds: 60 });
const notifier = new Notifier(connections.connect(), command, prefix);
// A short pickup backstop, so the test sees it act within seconds (default: PICKUP_MS).
const lane = new ExecuteLane(command, prefix, 300);
const keys = queryKeys(prefix);
let worker: LaneWorker | undefined;

afterAll(async () => {
  await worker?.close();
  await notifier.close();
  connections.disconnectAll();
  await cleanupPrefix(prefix);
});

it('an approved query whose id was popped by a worker that died before its start step is never run', async () => {
  const now = new Date();
  const record = queuedRead(
    { id: 'agent-l', name: 'agent-l', groups: [] },
    { status: 'pending_approval', decision: { ...ALLOWED_SELECT, action: 'review', risk: 'high', approvals: { required: 1, groups: ['g'] } }, createdAt: new Date(now.getTime() - 60_000).toISOString() },
  );
  const { id } = record;
  await store.create(record);
  // The review's card was posted: handOn drops the intake entry.
  await store.intakeDone(id);
  const approval = { required: 1, groups: ['g'], fingerprint: 'f'.repeat(64), expiresAt: new Date(now.getTime() + 3600_000).toISOString(), votes: [], card: { channel: 'C', ts: '1', postedAt: now.toISOString() } };
  await store.transition(id, ['pending_approval'], { status: 'approved', approval });
  await store.transition(id, ['approved'], { status: 'queued' });
  await lane.enqueue(id);
  // A worker's BRPOP takes it; the process is killed before store.start (or store.start throws).
  expect(await command.rpop(keys.ready)).toBe(id);

  // Everything that could bring it back runs: a live lane worker with its sweeper, and reconciler passes.
  let calls = 0;
  const wh: Warehouse = {
    execute: async () => {
      calls++;
      return { queryId: 'w', columns: [], rows: (async function* () {})(), truncated: false };
    },
    close: async () => undefined,
  };
  const execution = new ExecutionService({ store, notifier, warehouse: wh, logger, limits: { statementTimeoutMs: 5000, maxRows: 10 }, leaseMs: 500 });
  worker = startLaneWorker({ blocking: connections.connect(), command: connections.connect(), prefix, concurrency: 2, logger, handle: async (q) => void (await execution.execute(q)), leaseMs: 500, renewEveryMs: 150, sweepEveryMs: 100, pickupMs: 300 });
  const reconciler = new IntakeReconciler({ store, queue: lane, logger, now: () => Date.now(), graceMs: 0 });
  for (let i = 0; i < 10; i++) {
    await reconciler.pass();
    await new Promise((r) => setTimeout(r, 300));
  }
  const where = {
    status: (await store.get(id))?.status,
    calls,
    ready: await command.lpos(keys.ready, id),
    lease: await command.zscore(keys.leases, id),
    delayed: await command.zscore(keys.delayed, id),
    intake: await command.zscore(keys.intake, id),
  };
  // The pickup backstop brings it back: it runs once and succeeds.
  expect(where).toMatchObject({ status: 'succeeded', calls: 1 });
}, 20_000);
