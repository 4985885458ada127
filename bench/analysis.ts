/**
 * Large SQL and the event loop (docs/benchmarks.md, docs/reliability.md).
 *
 * 1. Cost by size: one statement of the shape agents send when they paste
 *    long lists (a select list, an `IN (…)` list, `AND`ed filters) at 1–96 KB,
 *    decided in process (engine, cache off) and through the analysis pool (one
 *    warm thread: copy, analyse, copy back). Where the in-process cost passes
 *    a few milliseconds while the thread hop stays small is where the offload
 *    threshold (AIRLOCK_ANALYSIS_OFFLOAD_BYTES) belongs.
 * 2. Stall: the real API (fastify on loopback) with four agents sending 96 KB
 *    statements to POST /v1/policy/evaluate for a few seconds, while a probe
 *    calls GET /healthz every 20 ms. Before: every statement in process. After:
 *    large statements on the pool (2 threads). Reported: /healthz latency and
 *    the event loop's longest delay (monitorEventLoopDelay).
 *
 * Pure CPU and loopback; the token check is a stub (the bench measures
 * analysis, not OIDC). Alone: `npx tsx bench/analysis.ts`.
 */
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { offloadingEvaluate } from '../src/analysis/offload.ts';
import { AnalysisPool } from '../src/analysis/pool.ts';
import { buildApi } from '../src/api/server.ts';
import { loadPolicyFile } from '../src/config/policy-file.ts';
import { createLogger } from '../src/log.ts';
import { createPolicyEngine } from '../src/policy/engine.ts';
import type { Decision } from '../src/policy/decision.ts';
import type { QueryService } from '../src/queries/service.ts';

const ctx = { agent: 'bench-agent', groups: ['analysts'] };
const SIZES_KB = [1, 2, 4, 8, 16, 32, 64, 96];
const ROUNDS = Number(process.env.BENCH_ANALYSIS_ROUNDS ?? 15);

/**
 * A read of about `kb` KB: columns, an IN list and ANDed filters, as a long
 * pasted query looks. `variant` changes its LIMIT, so no decision cache (the
 * threads keep a small one) answers a repeat.
 */
export function statementOf(kb: number, variant = 0): string {
  const target = kb * 1024;
  const cols = 'customer_id, segment, city, state, lifetime_value';
  const tail = ` limit ${100 + variant}`;
  let ids = '';
  let filters = '';
  for (let i = 0; `select ${cols} from customers where customer_id in (${ids}0)${filters}${tail}`.length < target; i++) {
    if (i % 4 === 3) filters += ` and city <> 'City ${i}'`;
    else ids += `${i},`;
  }
  return `select ${cols} from customers where customer_id in (${ids}0)${filters}${tail}`;
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function costBySize(log: (line: string) => void): Promise<string[]> {
  const policy = await loadPolicyFile();
  const engine = createPolicyEngine(policy, { cacheSize: 0 });
  const pool = new AnalysisPool({ threads: 1, queueLimit: 4, timeoutMs: 60_000 });
  try {
    // Warm both: JIT, the parser's grammar, the thread's start-up.
    for (let i = 0; i < 3; i++) {
      engine.evaluate(statementOf(8, i), ctx);
      await pool.evaluate(policy, statementOf(8, i), ctx);
    }
    const rows = ['| SQL size | in process (event loop blocked), p50 | on the pool (copy + analyse + copy back, loop free), p50 |', '|--:|--:|--:|'];
    let variant = 10;
    for (const kb of SIZES_KB) {
      const local: number[] = [];
      const remote: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const sql = statementOf(kb, variant++);
        let t0 = performance.now();
        engine.evaluate(sql, ctx);
        local.push(performance.now() - t0);
        t0 = performance.now();
        await pool.evaluate(policy, sql, ctx);
        remote.push(performance.now() - t0);
      }
      log(`bench: analysis ${kb} KB: in process ${fmt(p50(local))}, pool ${fmt(p50(remote))}`);
      rows.push(`| ${kb} KB | ${fmt(p50(local))} | ${fmt(p50(remote))} |`);
    }
    return rows;
  } finally {
    await pool.close();
  }
}

interface StallFigures {
  evaluated: number;
  busy: number;
  healthP50: number;
  healthP99: number;
  healthMax: number;
  loopMaxMs: number;
}

/** Four agents send 96 KB statements for `ms` while /healthz is probed every 20 ms. */
async function stall(mode: 'in-process' | 'pool', ms: number): Promise<StallFigures> {
  const policy = await loadPolicyFile();
  const engine = createPolicyEngine(policy, { cacheSize: 0 });
  const pool = new AnalysisPool({ threads: 2, queueLimit: 8, timeoutMs: 60_000 });
  const offloaded = offloadingEvaluate({ inProcess: (sql, c) => engine.evaluate(sql, c), current: () => policy, pool, thresholdBytes: 16 * 1024 });
  const evaluate = (sql: string, r: { id: string; groups: string[] }): Decision | Promise<Decision> =>
    mode === 'pool' ? offloaded(sql, { agent: r.id, groups: r.groups }) : engine.evaluate(sql, { agent: r.id, groups: r.groups });
  const app = buildApi({
    // Only POST /v1/policy/evaluate is called: it needs the evaluate function, not the query service behind the other routes.
    queries: {} as QueryService,
    authenticator: { verify: async () => ({ id: 'bench-agent', name: 'bench-agent', groups: ['analysts'] }) },
    evaluate,
    logger: createLogger({ level: 'silent' }),
    bodyLimitBytes: 1024 * 1024,
    maxSqlBytes: 200_000,
    readiness: async () => ({ checks: {} }),
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  // Warm the threads and the in-process parser alike.
  for (let i = 0; i < 4; i++) await fetch(`${base}/v1/policy/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, body: JSON.stringify({ sql: statementOf(96, i) }) });
  let variant = 1_000;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const until = performance.now() + ms;
  let evaluated = 0;
  let busy = 0;
  const agent = async () => {
    while (performance.now() < until) {
      const body = JSON.stringify({ sql: statementOf(96, variant++) });
      const res = await fetch(`${base}/v1/policy/evaluate`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, body });
      await res.arrayBuffer();
      if (res.status === 200) evaluated++;
      else if (res.status === 503) busy++;
    }
  };
  const health: number[] = [];
  const probe = async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      await (await fetch(`${base}/healthz`)).arrayBuffer();
      health.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await Promise.all([agent(), agent(), agent(), agent(), probe()]);
  loop.disable();
  await app.close();
  await pool.close();
  const sorted = [...health].sort((a, b) => a - b);
  return {
    evaluated,
    busy,
    healthP50: p50(health),
    healthP99: sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!,
    healthMax: sorted.at(-1)!,
    loopMaxMs: loop.max / 1e6,
  };
}

/** Both parts; the report lines go to docs/benchmarks.md. */
export async function benchAnalysis(options: { log?: (line: string) => void; stallMs?: number } = {}): Promise<{ report: string[] }> {
  const log = options.log ?? (() => {});
  const stallMs = options.stallMs ?? Number(process.env.BENCH_STALL_MS ?? 4000);
  log('bench: analysis cost by SQL size…');
  const sizes = await costBySize(log);
  const rows = ['| analysis of 96 KB statements, 4 agents | statements decided | 503 ANALYSIS_BUSY | /healthz p50 | p99 | max | event loop max delay |', '|---|--:|--:|--:|--:|--:|--:|'];
  for (const mode of ['in-process', 'pool'] as const) {
    log(`bench: stall, ${mode}, ${stallMs} ms…`);
    const f = await stall(mode, stallMs);
    rows.push(`| ${mode === 'pool' ? 'after: > 16 KB on the pool (2 threads)' : 'before: in process'} | ${f.evaluated} | ${f.busy} | ${fmt(f.healthP50)} | ${fmt(f.healthP99)} | ${fmt(f.healthMax)} | ${fmt(f.loopMaxMs)} |`);
  }
  return { report: ['', '## Large SQL and the event loop', '', ...sizes, '', ...rows] };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { report } = await benchAnalysis({ log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${report.join('\n')}\n`);
}
