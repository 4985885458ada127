/**
 * Audit log speed on real Redis (issue 6): append throughput (events/s) with
 * 64 callers appending at once, then search latency with 100,000 sessions
 * stored (each session a `received` + `decided` pair, 20 agents, 50 tables).
 * Alone: `npx tsx bench/audit.ts` (REDIS_URL or 127.0.0.1:6379).
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { deletePrefix } from './cleanup.ts';
import type { AuditEventInput } from '../src/audit/events.ts';
import { RedisAuditLog } from '../src/audit/redis-log.ts';
import { AuditSearch, type SessionQuery } from '../src/audit/search.ts';

const SESSIONS = 100_000;
const CONCURRENCY = 64;

function sessionPair(i: number, at: string): AuditEventInput[] {
  const table = `ANALYTICS.PUBLIC.T${i % 50}`;
  const session = `bench-${i}`;
  return [
    { type: 'received', session, at, data: { agent: `agent-${i % 20}`, owner: `owner${i % 7}@example.com`, groups: [], prompt: `question ${i % 100}`, sql: `select id, ssn from ${table}`, fingerprint: 'f'.repeat(64) } },
    {
      type: 'decided',
      session,
      at,
      data: {
        decision: {
          action: i % 3 ? 'allow' : 'review',
          risk: 'low',
          reasons: [],
          approvals: { required: 0, groups: [] },
          statements: [{ kind: 'select', tables: [table], columns: [`${table}.ID`, `${table}.SSN`], complete: true }],
          fingerprint: 'f'.repeat(64),
          complete: true,
        },
      },
    },
  ];
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function benchAudit(options: { log: (line: string) => void; redisUrl?: string; sessions?: number }): Promise<{ report: string[] }> {
  const sessions = options.sessions ?? SESSIONS;
  const prefix = `bench-audit-${randomUUID().slice(0, 8)}`;
  const redis = new Redis(options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const report: string[] = [];
  try {
    const log = new RedisAuditLog(redis, { prefix });
    const start = Date.parse('2024-01-01T00:00:00Z');
    let next = 0;
    const t0 = performance.now();
    options.log(`audit bench: appending ${sessions * 2} events (${CONCURRENCY} concurrent callers)…`);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < sessions; i = next++) {
          const at = new Date(start + i * 6000).toISOString();
          for (const e of sessionPair(i, at)) await log.append(e);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    report.push(`audit append: ${Math.round((sessions * 2) / seconds).toLocaleString('en-US')} events/s (${sessions * 2} events, ${CONCURRENCY} concurrent callers, one process)`);
    const search = new AuditSearch(log);
    const queries: Array<[string, SessionQuery]> = [
      ['newest page, no filter', { limit: 50 }],
      ['agent', { agent: 'agent-3', limit: 50 }],
      ['column T7.SSN', { table: 'T7.SSN', limit: 50 }],
      ['column + status + week', { table: 'T7.SSN', status: 'pending_approval', from: new Date(start + 3 * 86_400_000), to: new Date(start + 10 * 86_400_000), limit: 50 }],
      ['owner + word, 3rd page', { owner: 'owner3@example.com', q: 'question 42', limit: 20 }],
    ];
    for (const [name, q] of queries) {
      const times: number[] = [];
      for (let r = 0; r < 50; r++) {
        const t = performance.now();
        let page = await search.search(q);
        if (name.includes('3rd page')) for (let k = 0; k < 2 && page.nextCursor; k++) page = await search.search({ ...q, cursor: page.nextCursor });
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      report.push(`audit search (${sessions.toLocaleString('en-US')} sessions) ${name}: p50 ${pct(times, 50).toFixed(2)} ms, p99 ${pct(times, 99).toFixed(2)} ms`);
    }
    return { report };
  } finally {
    options.log('audit bench: cleaning up…');
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { report } = await benchAudit({ log: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${report.join('\n')}\n`);
}
