/**
 * Crash recovery and fail closed across real processes: one `airlock serve
 * --roles api`, three `--roles worker`, a Redis of their own with an AOF, the
 * emulator and a TLS OIDC issuer (test/support/airlock-stack.ts). Workers,
 * the API and Redis are killed with SIGKILL at chosen moments; the suite
 * asserts what the API promised:
 *
 * - a killed worker's job is resolved within 10 s: a read starts again on the
 *   other worker (and succeeds), a write ends `outcome_unknown` and is never
 *   re-run; `execution.attempts` counts every start;
 * - no acknowledged query is lost (each 200/202 id is found afterwards, and
 *   reaches a final status or waits for review);
 * - no 503'd query runs or can be approved, and retrying a 503 with the same
 *   idempotency key never runs the statement twice.
 *
 * `npm test` runs it bounded (one kill of each kind); `npm run
 * test:reliability` (AIRLOCK_RELIABILITY=long) repeats the kills and measures
 * 5,000 pending approvals. Figures: docs/reliability.md.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisAuditLog } from '../../src/audit/redis-log.ts';
import { AuditSearch } from '../../src/audit/search.ts';
import { queryKeys } from '../../src/queries/keys.ts';
import { QueryStore } from '../../src/queries/store.ts';
import type { QueryRecord } from '../../src/queries/types.ts';
import { quickRead, reviewed, SLOW_READ, SLOW_WRITE, startAirlockStack, type AirlockStack } from '../support/airlock-stack.ts';
import { until } from '../support/until.ts';

const LONG = process.env.AIRLOCK_RELIABILITY === 'long';
/** The promise under test: a dead worker's job is picked up again, or ended, within this long. */
const RESOLVED_WITHIN_MS = 10_000;
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'denied', 'rejected', 'expired', 'outcome_unknown']);

let stack: AirlockStack;
let store: QueryStore;

/** Recovery times measured here, printed for docs/reliability.md. */
const measured: Record<string, number[]> = {};
function note(what: string, ms: number): void {
  (measured[what] ??= []).push(Math.round(ms));
}

beforeAll(async () => {
  // Three workers: each kill below leaves at least one to take the job over, with no restart in between.
  stack = await startAirlockStack({ workers: 3 });
  store = new QueryStore(stack.admin, { prefix: stack.prefix, resultTtlSeconds: 3600 });
}, 180_000);

afterAll(async () => {
  if (Object.keys(measured).length > 0) console.log(`reliability figures (ms): ${JSON.stringify(measured)}`);
  await stack?.close();
});

async function record(id: string): Promise<QueryRecord | undefined> {
  return store.get(id);
}

async function transcript(id: string): Promise<string[]> {
  return (await new AuditSearch(new RedisAuditLog(stack.admin, { prefix: stack.prefix })).transcript(id)).map((e) => e.type);
}

/** Submit without waiting; the response as it came (a dead API is status 0). */
async function submit(sql: string, idempotencyKey?: string): Promise<{ status: number; json: any }> {
  try {
    return await stack.agent('/v1/queries', { body: { sql, waitMs: 0 }, ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}) });
  } catch {
    return { status: 0, json: undefined };
  }
}

/** The worker process running query `id`: the session log's latest `execution_started` names it (`host:pid`). */
async function workerRunning(id: string) {
  const events = await new AuditSearch(new RedisAuditLog(stack.admin, { prefix: stack.prefix })).transcript(id);
  const started = events.filter((e) => e.type === 'execution_started').pop();
  const by = String((started?.data as { worker?: string } | undefined)?.worker ?? '');
  const pid = Number(by.split(':').pop());
  const worker = stack.workers.find((w) => w.pid === pid);
  if (!worker) throw new Error(`no worker process ${by} among ${stack.workers.map((w) => w.pid).join(', ')}`);
  return worker;
}

/** Kill the worker running `sql` mid-statement; resolves with the query id and the moment of the kill. */
async function killWorkerDuring(sql: string): Promise<{ id: string; killedAt: number }> {
  const r = await submit(sql);
  expect(r.status).toBe(202);
  const id = r.json.id as string;
  await until('the statement runs', async () => ((await record(id))?.status === 'running' ? true : undefined), 30_000);
  // Let the warehouse get into it, then kill the process that runs it.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const victim = await workerRunning(id);
  await victim.kill9();
  const killedAt = performance.now();
  stack.workers.splice(stack.workers.indexOf(victim), 1);
  expect((await record(id))?.status, 'the statement ended before the kill (REL_SLOW too small for this machine)').toBe('running');
  return { id, killedAt };
}

describe('a worker killed mid-statement', () => {
  it('a read starts again on another worker within 10 s, succeeds, and counts both starts', async () => {
    for (let round = 0; round < (LONG ? 3 : 1); round++) {
      if (stack.workers.length < 2) await stack.startWorker();
      const { id, killedAt } = await killWorkerDuring(SLOW_READ);
      await until('the read is started again', async () => ((await record(id))?.execution?.attempts === 2 ? true : undefined), RESOLVED_WITHIN_MS);
      note('read restarted after kill', performance.now() - killedAt);
      const done = await until('the read succeeds', async () => ((await record(id))?.status === 'succeeded' ? record(id) : undefined), 60_000);
      note('read succeeded after kill', performance.now() - killedAt);
      expect(done!.execution?.attempts).toBe(2);
      expect((await transcript(id)).filter((t) => t === 'execution_started')).toHaveLength(2);
    }
  }, 240_000);

  it('a write ends outcome_unknown within 10 s and is never run again', async () => {
    for (let round = 0; round < (LONG ? 3 : 1); round++) {
      if (stack.workers.length < 2) await stack.startWorker();
      const { id, killedAt } = await killWorkerDuring(SLOW_WRITE);
      const ended = await until('the write is resolved', async () => ((await record(id))?.status === 'outcome_unknown' ? record(id) : undefined), RESOLVED_WITHIN_MS);
      note('write outcome_unknown after kill', performance.now() - killedAt);
      expect(ended!.error?.code).toBe('OUTCOME_UNKNOWN');
      expect(ended!.execution?.attempts).toBe(1);
      expect((await transcript(id)).filter((t) => t === 'execution_started')).toHaveLength(1);
    }
  }, 240_000);
});

/** What happened to each submit of a burst: its answer, and what the store holds afterwards. */
interface Sent {
  sql: string;
  key: string;
  status: number;
  id?: string;
}

/** Submit `count` distinct statements (every fifth one reviewed), `concurrency` at a time, each with its own idempotency key. */
async function burst(label: string, count: number, concurrency: number): Promise<Sent[]> {
  const out: Sent[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const tag = `${label}-${i}-${randomUUID().slice(0, 8)}`;
        const sql = i % 5 === 4 ? reviewed(tag) : quickRead(tag);
        const key = `key-${tag}`;
        const r = await submit(sql, key);
        out.push({ sql, key, status: r.status, ...(typeof r.json?.id === 'string' ? { id: r.json.id } : typeof r.json?.error?.details?.id === 'string' ? { id: r.json.error.details.id } : {}) });
      }
    }),
  );
  return out;
}

/** Every record in the store, by its SQL (each statement of a burst is distinct). */
async function recordsBySql(): Promise<Map<string, QueryRecord[]>> {
  const bySql = new Map<string, QueryRecord[]>();
  const keys = queryKeys(stack.prefix);
  const base = keys.record('');
  let cursor = '0';
  do {
    const [next, found] = await stack.admin.scan(cursor, 'MATCH', keys.recordPattern, 'COUNT', 1000);
    cursor = next;
    // Record keys are the base plus an id; result keys add `:rows…` (ids never hold a colon).
    for (const key of found.filter((k) => !k.slice(base.length).includes(':'))) {
      const r = await record(key.slice(base.length));
      if (r) bySql.set(r.sql, [...(bySql.get(r.sql) ?? []), r]);
    }
  } while (cursor !== '0');
  return bySql;
}

/**
 * The promises, checked once the stack is whole again: acknowledged queries
 * are found and not stuck; a 503'd one is absent or failed (never ran, never
 * approvable); no statement ran twice, retries included.
 */
async function checkPromises(sent: Sent[]): Promise<void> {
  const acknowledged = sent.filter((s) => s.status === 200 || s.status === 202);
  for (const s of acknowledged) {
    const r = await until(`acknowledged ${s.id} settles`, async () => {
      const found = await record(s.id!);
      return found && (TERMINAL.has(found.status) || found.status === 'pending_approval') ? found : undefined;
    }, 30_000);
    expect(r, `acknowledged query ${s.id} lost`).toBeDefined();
  }
  for (const s of sent.filter((x) => x.status === 503 && x.id)) {
    const r = await record(s.id!);
    expect(r === undefined || r.status === 'failed', `503'd query ${s.id} is ${r?.status}`).toBe(true);
  }
  const bySql = await recordsBySql();
  for (const s of sent) {
    const ran = (bySql.get(s.sql) ?? []).filter((r) => r.execution !== undefined);
    expect(ran.length, `${s.sql} ran ${ran.length} times`).toBeLessThanOrEqual(1);
  }
}

describe('the API killed mid-burst', () => {
  it('every acknowledged query is found and runs; nothing runs twice', async () => {
    const sending = burst('api-kill', LONG ? 200 : 40, 8);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stack.api.kill9();
    const sent = await sending;
    await stack.restartApi();
    // The agent retries what got no answer, with the same idempotency key.
    for (const s of sent.filter((x) => x.status === 0)) {
      const again = await submit(s.sql, s.key);
      Object.assign(s, { status: again.status, id: again.json?.id });
    }
    expect(sent.filter((s) => s.status === 200 || s.status === 202).length).toBe(sent.length);
    await checkPromises(sent);
  }, 240_000);
});

describe('Redis killed mid-burst and restarted from its AOF', () => {
  it('acknowledged queries survive, 503s leave nothing that runs or can be approved, retries run once', async () => {
    for (let round = 0; round < (LONG ? 3 : 1); round++) {
      const sending = burst(`redis-kill-${round}`, LONG ? 300 : 60, 8);
      await new Promise((resolve) => setTimeout(resolve, 400));
      await stack.redis.kill9();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await stack.redis.start();
      const sent = await sending;
      const refused = sent.filter((s) => s.status === 503);
      // The first pass: nothing a 503 answered may run or wait for approval.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await checkPromises(sent);
      // The agent retries each 503 with the same key: it runs at most once.
      for (const s of refused) {
        const again = await submit(s.sql, s.key);
        expect([200, 202]).toContain(again.status);
      }
      await checkPromises(sent);
      note('503 answers in a Redis kill', refused.length);
    }
    // The outage is in the log as one JSON line per event: no multi-line stack traces from queue objects.
    for (const p of [stack.api, ...stack.workers]) {
      const stray = p.log().split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{') && !line.startsWith('airlock serving roles'));
      expect(stray, `pid ${p.pid} wrote non-JSON lines`).toEqual([]);
    }
  }, 600_000);
});

describe('many pending approvals', () => {
  it('each pending review costs a bounded amount of Redis memory, and every one stays approvable', async () => {
    const count = LONG ? 5000 : 200;
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await stack.admin.info('memory'))![1]);
    const before = await usedMemory();
    let next = 0;
    const ids: string[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i < count; i = next++) {
          const r = await submit(reviewed(`pending-${i}`));
          expect(r.status).toBe(202);
          ids.push(r.json.id);
        }
      }),
    );
    note(`submit ${count} reviews`, performance.now() - t0);
    // Every review is opened (approval state, expiry job) before it is counted.
    await until('every review is opened', async () => ((await store.intakeDue(Date.now() + 60_000, 1)).length === 0 ? true : undefined), 60_000);
    const perPending = ((await usedMemory()) - before) / count;
    note(`Redis bytes per pending review (${count})`, perPending);
    const pending = await stack.admin.zcard(queryKeys(stack.prefix).pending);
    expect(pending).toBeGreaterThanOrEqual(count);
    const sample = await record(ids[ids.length - 1]!);
    expect(sample?.status).toBe('pending_approval');
    expect(sample?.approval).toBeDefined();
    // A record, its session-log events and indexes, its approval state and its expiry job: a few KB, not more.
    expect(perPending).toBeLessThan(16_384);
  }, 600_000);
});
