/**
 * Per-step profile of the allowed-read path (docs/benchmarks.md, "Where an
 * allowed read spends its time"): the dev stack in this process (emulator,
 * issuer, API and worker roles on real Redis and BullMQ), one agent sending
 * the 3-row read sequentially, and every step timed by wrapping the methods
 * that do it — on their prototypes, in this script only, so production code
 * carries no hook and pays nothing.
 *
 * Each request gets a timeline (ms after the agent sent it) of the spans
 * carrying its query id: the session-log appends, the store's Redis calls, the
 * enqueue, the worker's execute, the warehouse call, the pub/sub wake-up. The
 * table shows, per step in order, the median start and the median duration;
 * the gaps between steps are what no wrapped call accounts for (HTTP, token
 * check and policy before the first step; BullMQ's pickup before the worker's
 * first read; the reply after the last).
 *
 * Alone: `BENCH_ONLY=profile npm run bench` (BENCH_PROFILE_SAMPLES, default 200).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDev } from '../src/app/dev.ts';
import { RedisAuditLog } from '../src/audit/redis-log.ts';
import { loadConfig } from '../src/config/env.ts';
import { createLogger } from '../src/log.ts';
import { ExecutionService } from '../src/queries/execution.ts';
import { Notifier } from '../src/queries/notifier.ts';
import { QueryService } from '../src/queries/service.ts';
import { QueryStore } from '../src/queries/store.ts';
import { ExecuteLane } from '../src/queue/execute-lane.ts';
import type { Warehouse } from '../src/warehouse/port.ts';
import { brokerRead, dropPrefix, runAlone } from './common.ts';


interface Span {
  step: string;
  start: number;
  end: number;
}

/** Spans by query id; `current` names the query of the one request in flight (requests are sequential). */
const spans = new Map<string, Span[]>();
let current: string | undefined;

function record(id: string | undefined, step: string, start: number, end: number): void {
  const key = id ?? current;
  if (!key) return;
  let list = spans.get(key);
  if (!list) spans.set(key, (list = []));
  list.push({ step, start, end });
}

type AnyFn = (...args: unknown[]) => unknown;

/** Time `name` on `proto`; `idOf` finds the query id in the arguments. */
function wrap(proto: object, name: string, step: string, idOf: (args: unknown[]) => string | undefined): void {
  const target = proto as Record<string, AnyFn>;
  const original = target[name]!;
  target[name] = function (this: unknown, ...args: unknown[]) {
    const start = performance.now();
    const id = idOf(args);
    const out = original.apply(this, args);
    if (out instanceof Promise) {
      return out.finally(() => record(id, step, start, performance.now()));
    }
    record(id, step, start, performance.now());
    return out;
  };
}

const first = (args: unknown[]) => (typeof args[0] === 'string' ? args[0] : undefined);

function instrument(): void {
  wrap(QueryService.prototype, 'submit', 'api: submit() (after HTTP parse, token check)', () => undefined);
  wrap(RedisAuditLog.prototype, 'append', 'session log append', (a) => (a[0] as { session?: string }).session);
  wrap(QueryStore.prototype, 'create', 'store.create', (a) => (a[0] as { id: string }).id);
  wrap(QueryStore.prototype, 'get', 'store.get', first);
  wrap(QueryStore.prototype, 'transition', 'store.transition', first);
  wrap(QueryStore.prototype, 'start', 'store.start (queued → running, read back)', first);
  wrap(QueryStore.prototype, 'saveResult', 'store.saveResult (mask + cap + store)', first);
  wrap(QueryStore.prototype, 'readResult', 'store.readResult', first);
  wrap(ExecuteLane.prototype, 'enqueue', 'lane.enqueue (push to ready)', first);
  wrap(ExecutionService.prototype, 'execute', 'worker: execute() (the lane handed the id over)', first);
  // The wake-up: when the pub/sub message reaches a long-poll's listener.
  const notifier = Notifier.prototype as unknown as { on(channel: string, id: string, l: (id: string) => void): () => void };
  const on = notifier.on;
  notifier.on = function (this: unknown, channel: string, id: string, listener: (id: string) => void) {
    return on.call(this, channel, id, (got) => {
      const t = performance.now();
      if (!channel.endsWith('query-cancel')) record(got, 'pub/sub message reaches the long-poll', t, t);
      listener(got);
    });
  };
}

/** The warehouse call, timed until its rows are drained (masking and storing pull them). */
function timedWarehouse(inner: Warehouse): Warehouse {
  return {
    ...inner,
    async execute(sql, opts) {
      const start = performance.now();
      const id = opts?.queryTag?.replace(/^airlock:/, '');
      const result = await inner.execute(sql, opts);
      record(id, 'warehouse.execute (snowflake-sdk → emulator, statement done)', start, performance.now());
      return result;
    },
    close: () => inner.close(),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

export async function benchProfile(options: { log: (line: string) => void }): Promise<{ report: string[] }> {
  const { log } = options;
  const samples = Number(process.env.BENCH_PROFILE_SAMPLES ?? 200);
  instrument();
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench-profile-${randomUUID().slice(0, 8)}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'airlock-bench-profile-'));
  log('profile: starting the dev stack in this process…');
  const env = await startDev({
    config: loadConfig({ REDIS_URL: redisUrl, AIRLOCK_REDIS_PREFIX: prefix, AIRLOCK_LOG_LEVEL: 'silent', AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS: '0' }),
    logger: createLogger({ level: 'silent' }),
    stateDir,
    port: 0,
    wrapWarehouse: timedWarehouse,
  });
  try {
    const token = await env.mintToken({ agent: 'profile-agent', owner: 'profile@example.com' });
    const timelines: Array<{ total: number; steps: Span[] }> = [];
    for (let i = 0; i < 30 + samples; i++) {
      spans.clear();
      current = `req-${i}`;
      const t0 = performance.now();
      const body = await brokerRead(env.apiUrl, token);
      const total = performance.now() - t0;
      // Let the worker's trailing steps (execution_finished, BullMQ completion) land before the next request.
      await new Promise((resolve) => setTimeout(resolve, 15));
      if (i < 30) continue;
      const steps = [...(spans.get(current) ?? []), ...(spans.get(body.id) ?? [])].map((s) => ({ ...s, start: s.start - t0, end: s.end - t0 }));
      steps.sort((a, b) => a.start - b.start);
      timelines.push({ total, steps });
    }
    // Name repeated steps by occurrence (store.get #1, #2…), then take medians per name.
    const byName = new Map<string, { starts: number[]; durations: number[] }>();
    for (const { steps } of timelines) {
      const seen = new Map<string, number>();
      for (const s of steps) {
        const n = (seen.get(s.step) ?? 0) + 1;
        seen.set(s.step, n);
        const name = n === 1 ? s.step : `${s.step} #${n}`;
        let e = byName.get(name);
        if (!e) byName.set(name, (e = { starts: [], durations: [] }));
        e.starts.push(s.start);
        e.durations.push(s.end - s.start);
      }
    }
    const rows = [...byName.entries()]
      .filter(([, e]) => e.starts.length >= timelines.length / 2)
      .map(([name, e]) => ({ name, start: median(e.starts), duration: median(e.durations), seen: e.starts.length }))
      .sort((a, b) => a.start - b.start);
    const fmt = (v: number) => v.toFixed(2);
    const report = [
      '',
      `Allowed 3-row read, one agent, per-step profile (dev stack in one process; median of ${timelines.length}; ${new Date().toISOString()})`,
      '| step | starts at (ms) | takes (ms) | in n |',
      '|---|---|---|---|',
      ...rows.map((r) => `| ${r.name} | ${fmt(r.start)} | ${fmt(r.duration)} | ${r.seen} |`),
      `| agent has the reply (POST → 200 with rows) | ${fmt(median(timelines.map((t) => t.total)))} | | ${timelines.length} |`,
    ];
    return { report };
  } finally {
    await env.close();
    await dropPrefix(redisUrl, prefix);
    await rm(stateDir, { recursive: true, force: true });
  }
}

runAlone(import.meta.url, benchProfile);
