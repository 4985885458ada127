/**
 * The scheduled audit export on real BullMQ, real Redis and a real filesystem
 * store: one schedule however often replicas upsert it; closed windows are
 * exported once (never the open one), trimmed, and verify; a run that meets
 * another export's lock is skipped, not failed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Queue, type Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { AirlockError } from '../../src/errors.ts';
import { exportKeys, MANIFEST_PREFIX, parseManifest, type ExportManifest } from '../../src/audit/manifest.ts';
import { FsExportStore } from '../../src/audit/fs-store.ts';
import { RedisAuditLog } from '../../src/audit/redis-log.ts';
import { verifyAll, verifyExports } from '../../src/audit/verify.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import {
  AUDIT_EXPORT_QUEUE,
  AuditExportQueue,
  runScheduledExport,
  startAuditExportWorker,
  type ExportRunResult,
} from '../../src/queue/audit-export-queue.ts';
import { bullPrefix } from '../../src/queue/bull-prefix.ts';
import { sessionEvents } from '../audit/fixtures.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/until.ts';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  // Reverse order: workers and queues close before their connections and keys go.
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Env {
  prefix: string;
  redis: Redis;
  log: RedisAuditLog;
  store: FsExportStore;
  queue: AuditExportQueue;
  inspect: Queue;
  logger: Logger;
  lines: () => Array<{ level: number; msg: string; events?: number; trimmedEvents?: number }>;
  connect(): Redis;
}

async function setup(): Promise<Env> {
  const prefix = uniquePrefix('audit-export-q');
  const dir = await mkdtemp(join(tmpdir(), 'airlock-audit-export-q-'));
  const connections: Redis[] = [];
  const connect = () => {
    const c = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(c);
    return c;
  };
  cleanups.push(async () => {
    for (const c of connections) c.disconnect();
    await cleanupPrefix(prefix);
    await rm(dir, { recursive: true, force: true });
  });
  const redis = connect();
  const queue = new AuditExportQueue(connect(), prefix);
  const inspect = new Queue(AUDIT_EXPORT_QUEUE, { connection: connect(), prefix: bullPrefix(prefix) });
  cleanups.push(async () => {
    await queue.close();
    await inspect.close();
  });
  let out = '';
  const destination = new Writable({
    write(chunk, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const lines = () =>
    out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { level: number; msg: string });
  return { prefix, redis, log: new RedisAuditLog(redis, { prefix }), store: new FsExportStore(dir), queue, inspect, logger, lines, connect };
}

/** Start a worker whose runs are recorded in `results`. */
function worker(env: Env, run: () => Promise<ExportRunResult>): { worker: Worker; results: ExportRunResult[] } {
  const results: ExportRunResult[] = [];
  const w = startAuditExportWorker({
    connection: env.connect(),
    prefix: env.prefix,
    logger: env.logger,
    run: async () => {
      const r = await run();
      results.push(r);
      return r;
    },
  });
  cleanups.push(() => w.close());
  return { worker: w, results };
}

async function append(log: RedisAuditLog, session: string): Promise<void> {
  for (const e of sessionEvents({ id: session })) await log.append(e);
}

/** Wait until Redis's clock (the one export windows use) is within the first `headroomMs` of a window. */
async function windowStart(log: RedisAuditLog, windowMs: number, headroomMs: number): Promise<number> {
  return until('the start of an export window', async () => {
    const now = await log.redisNow();
    return now % windowMs < headroomMs ? Math.floor(now / windowMs) * windowMs : undefined;
  });
}

async function windowClosed(log: RedisAuditLog, windowFrom: number, windowMs: number): Promise<void> {
  await until('the export window to close', async () => (await log.redisNow()) >= windowFrom + windowMs);
}

async function manifests(store: FsExportStore): Promise<ExportManifest[]> {
  const keys = (await store.list(MANIFEST_PREFIX)).sort();
  return Promise.all(keys.map(async (k) => parseManifest((await store.get(k))!, k)));
}

const exportedEvents = (r: ExportRunResult | undefined) => (r && 'exported' in r ? r.exported.events : 0);

describe('AuditExportQueue scheduling', () => {
  it('keeps exactly one scheduler however often it is upserted, with the latest interval', async () => {
    const env = await setup();
    await env.queue.schedule(60_000);
    await env.queue.schedule(60_000); // a second replica starting
    let schedulers = await env.inspect.getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.every])).toEqual([['audit-export', 60_000]]);
    expect(await env.inspect.getJobCountByTypes('delayed', 'waiting')).toBe(1);

    await env.queue.schedule(30_000);
    schedulers = await env.inspect.getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.every])).toEqual([['audit-export', 30_000]]);
    expect(await env.inspect.getJobCountByTypes('delayed', 'waiting')).toBe(1);

    await env.queue.unschedule();
    expect(await env.inspect.getJobSchedulersCount()).toBe(0);
    expect(await env.inspect.getJobCountByTypes('delayed', 'waiting')).toBe(0);
  });

  it('refuses an interval that is not a positive whole number of ms', async () => {
    const env = await setup();
    for (const bad of [0, -5, 1.5, Number.NaN]) await expect(env.queue.schedule(bad)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await env.inspect.getJobSchedulersCount()).toBe(0);
  });
});

describe('the scheduled export job', () => {
  it('exports closed windows once, trims them, and later repetitions export nothing new', async () => {
    const env = await setup();
    const windowMs = 1000;
    const { results } = worker(env, () => runScheduledExport({ log: env.log, store: env.store, windowMs, retentionMs: 0, logger: env.logger }));
    // All 16 events in one window, so exactly one manifest is expected.
    await windowStart(env.log, windowMs, 300);
    await append(env.log, 'q1');
    await append(env.log, 'q2');
    await env.queue.schedule(200);

    const first = await until('a run that exports', () => results.findIndex((r) => exportedEvents(r) > 0) + 1 || undefined);
    await until('two more repetitions', () => results.length >= first + 2 || undefined);
    await env.queue.unschedule();

    expect(results.reduce((n, r) => n + exportedEvents(r), 0)).toBe(16);
    expect(results.slice(first).map(exportedEvents)).toEqual(results.slice(first).map(() => 0));
    expect((await manifests(env.store)).map((m) => [m.count, m.firstSeq, m.lastSeq])).toEqual([[16, 1, 16]]);
    const verified = await verifyExports(env.store);
    expect([verified.ok, verified.checked]).toEqual([true, 16]);
    // retentionMs 0: everything exported left Redis, and the chain still verifies across both.
    expect(results[first - 1]).toMatchObject({ trimmed: { events: 16, sessions: 2 } });
    expect(await env.redis.xlen(env.log.keys.stream)).toBe(0);
    expect((await verifyAll(env.log, env.store)).ok).toBe(true);
    // One info line for the run that did something; quiet runs log at debug (20) only.
    const done = env.lines().filter((l) => l.msg === 'audit export done');
    expect(done.map((l) => [l.level, l.events, l.trimmedEvents])).toEqual([[30, 16, 16]]);
    expect(env.lines().filter((l) => l.msg === 'audit export: nothing due').every((l) => l.level === 20)).toBe(true);
  });

  it('leaves the still-open window for a later run', async () => {
    const env = await setup();
    const windowMs = 2000;
    const { results } = worker(env, () => runScheduledExport({ log: env.log, store: env.store, windowMs, retentionMs: 3_600_000, logger: env.logger }));
    const a = await windowStart(env.log, windowMs, 500);
    await append(env.log, 'closed');
    await windowClosed(env.log, a, windowMs);
    // Now early in the next window: these events sit in a window that stays open for the next run.
    await append(env.log, 'open');
    await env.queue.runNow();
    await until('the first run', () => results[0]);
    expect(exportedEvents(results[0])).toBe(8);
    expect((await manifests(env.store)).map((m) => [m.firstSeq, m.lastSeq])).toEqual([[1, 8]]);

    await windowClosed(env.log, a + windowMs, windowMs);
    await env.queue.runNow();
    await until('the second run', () => results[1]);
    expect(exportedEvents(results[1])).toBe(8);
    expect((await manifests(env.store)).map((m) => [m.firstSeq, m.lastSeq])).toEqual([
      [1, 8],
      [9, 16],
    ]);
    expect((await verifyExports(env.store)).ok).toBe(true);
  });

  it('skips a run while another export holds the lock, and the job completes', async () => {
    const env = await setup();
    await append(env.log, 'q1');
    await env.redis.set(env.log.keys.exportLock, 'someone-else', 'PX', 30_000);
    const run = () => runScheduledExport({ log: env.log, store: env.store, windowMs: 1, retentionMs: 0, logger: env.logger });

    expect(await run()).toEqual({ skipped: 'locked' });

    const { results } = worker(env, run);
    await env.queue.runNow();
    await until('the job to complete', async () => (await env.inspect.getJobCountByTypes('completed')) === 1 || undefined);
    expect(results).toEqual([{ skipped: 'locked' }]);
    expect(await env.inspect.getJobCountByTypes('failed')).toBe(0);
    expect(await manifests(env.store)).toEqual([]);
    expect(await env.redis.xlen(env.log.keys.stream)).toBe(8);
  });

  it('fails (without retrying) on a conflict that is not the lock: a manifest that disagrees with Redis', async () => {
    const env = await setup();
    await append(env.log, 'q1');
    const run = () => runScheduledExport({ log: env.log, store: env.store, windowMs: 1, retentionMs: 3_600_000, logger: env.logger });
    // With 1 ms windows the eight events may close in more than one run: wait until all eight are out.
    let exported = 0;
    await until('the first eight events to be exported', async () => (exported += exportedEvents(await run())) >= 8 || undefined);
    expect(exported).toBe(8);
    await append(env.log, 'q2');
    // A stray manifest for seq 9–16 whose chain does not match what Redis holds.
    const [real] = await manifests(env.store);
    const forged = { ...real!, firstSeq: 9, lastSeq: 16, lastHash: '0'.repeat(64) };
    await env.store.put(exportKeys(new Date(), 9, 16).manifest, Buffer.from(JSON.stringify(forged)), 'application/json');

    await expect(run()).rejects.toMatchObject({ code: 'STATE_CONFLICT' });

    worker(env, run);
    await env.queue.runNow();
    const [failed] = await until('the job to fail', async () => {
      const jobs = await env.inspect.getFailed();
      return jobs.length > 0 ? jobs : undefined;
    });
    expect([failed!.failedReason, failed!.attemptsMade]).toEqual(['STATE_CONFLICT', 1]);
  });

  it.each([
    ['AUDIT_UNAVAILABLE', 'delayed', 1],
    ['VALIDATION_FAILED', 'failed', 1],
  ] as const)('a run failing with %s is %s for BullMQ after one attempt (retried only when transient)', async (code, state, attempts) => {
    const env = await setup();
    worker(env, async () => {
      throw new AirlockError(code, 'boom');
    });
    await env.queue.runNow();
    const [job] = await until(`the job to be ${state}`, async () => {
      const jobs = await env.inspect.getJobs([state]);
      return jobs.length > 0 ? jobs : undefined;
    });
    expect(job!.attemptsMade).toBe(attempts);
    expect(await env.inspect.getJobCountByTypes(state === 'delayed' ? 'failed' : 'delayed')).toBe(0);
  });
});
