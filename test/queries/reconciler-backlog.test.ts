/**
 * A query handed on to the lane and waiting behind a backlog (or while every
 * worker is down) is not failed by the reconciler's ten-minute rule, which is
 * for queries that never reached the lane: the hand-on removes its intake
 * entry. Real Redis, store, intake, lane and reconciler.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { Intake } from '../../src/queries/intake.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { IntakeReconciler } from '../../src/queries/reconciler.ts';
import { QueryStore } from '../../src/queries/store.ts';
import type { QueryRecord } from '../../src/queries/types.ts';
import { ExecuteLane } from '../../src/queue/execute-lane.ts';
import { cleanupPrefix, redisConnections, uniquePrefix } from '../support/redis.ts';

const connections = redisConnections();
const logger = createLogger({ level: 'silent' });
const prefix = uniquePrefix('recon-backlog');
const command = connections.connect();
const store = new QueryStore(command, { prefix, resultTtlSeconds: 60 });
const lane = new ExecuteLane(command, prefix);

afterAll(async () => {
  connections.disconnectAll();
  await cleanupPrefix(prefix);
});

it('a query handed on to the lane and waiting behind a backlog is not failed by the reconciler', async () => {
  const created = Date.now();
  const record: QueryRecord = {
    id: randomUUID(),
    status: 'queued',
    sql: 'select 1',
    requester: { id: 'agent-b', name: 'agent-b', groups: [] },
    decision: { action: 'allow', risk: 'low', reasons: [], approvals: { required: 0, groups: [] }, statements: [], fingerprint: 'f'.repeat(64), complete: true },
    createdAt: new Date(created).toISOString(),
    updatedAt: new Date(created).toISOString(),
    readOnly: true,
  };
  await store.create(record);
  // The submit hands it on successfully: it waits in `ready`.
  await new Intake({ store, queue: lane, logger }).handOn(record);
  expect(await command.lpos(queryKeys(prefix).ready, record.id)).not.toBeNull();
  // 11 minutes later every worker is still busy; the reconciler runs.
  const reconciler = new IntakeReconciler({ store, queue: lane, logger, now: () => created + 11 * 60_000 });
  const report = await reconciler.pass();
  const after = await store.get(record.id);
  expect({ failed: report?.failed, status: after?.status }).toEqual({ failed: [], status: 'queued' });
});
