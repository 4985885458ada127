/** Session search and replay against real Redis: exact filters and keyset pagination. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisAuditLog } from '../../src/audit/redis-log.ts';
import { AuditSearch } from '../../src/audit/search.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { sessionEvents, type SessionSpec } from './fixtures.ts';

const prefix = uniquePrefix('audit-s');
let redis: Redis;
let search: AuditSearch;
let log: RedisAuditLog;

const day = (d: number) => `2024-05-${String(d).padStart(2, '0')}T10:00:00.000Z`;
const specs: SessionSpec[] = Array.from({ length: 30 }, (_, i) => ({
  id: `s${String(i).padStart(2, '0')}`,
  agent: i % 3 === 0 ? 'bot-a' : 'bot-b',
  owner: i % 2 ? 'Ann@Example.com' : 'bob@example.com',
  tables: i % 5 === 0 ? ['ANALYTICS.PUBLIC.CUSTOMERS'] : ['ANALYTICS.PUBLIC.ORDERS'],
  columns: i % 5 === 0 ? ['ANALYTICS.PUBLIC.CUSTOMERS.SSN'] : [],
  outcome: (['succeeded', 'rejected', 'expired', 'failed', 'denied'] as const)[i % 5],
  approver: i % 4 === 0 ? { slackUserId: 'U9', email: 'carol@example.com' } : { slackUserId: 'U1', email: 'dan@example.com' },
  prompt: i === 7 ? 'churn forecast for enterprise' : 'weekly revenue',
  at: day(1 + i),
}));

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  log = new RedisAuditLog(redis, { prefix });
  search = new AuditSearch(log);
  await Promise.all(specs.flatMap((s) => sessionEvents(s)).map((e) => log.append(e)));
});
afterAll(async () => {
  redis.disconnect();
  await cleanupPrefix(prefix);
});

const expected = (pred: (s: SessionSpec, i: number) => boolean) =>
  specs
    .filter(pred)
    .map((s) => s.id)
    .reverse();

async function all(query: Parameters<AuditSearch['search']>[0]): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await search.search({ ...query, ...(cursor ? { cursor } : {}) });
    ids.push(...page.sessions.map((s) => s.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

describe('search', () => {
  it.each([
    ['agent', { agent: 'bot-a' }, (_: SessionSpec, i: number) => i % 3 === 0],
    ['owner (case-insensitive)', { owner: 'ann@example.com' }, (_: SessionSpec, i: number) => i % 2 === 1],
    ['column CUSTOMERS.SSN', { table: 'customers.ssn' }, (_: SessionSpec, i: number) => i % 5 === 0],
    ['status', { status: 'expired' }, (_: SessionSpec, i: number) => i % 5 === 2],
    ['approver who voted', { approver: 'CAROL@example.com' }, (_: SessionSpec, i: number) => i % 4 === 0 && i % 5 !== 4 && i % 5 !== 2],
    ['time window', { from: new Date(day(5)), to: new Date(day(12)) }, (_: SessionSpec, i: number) => i >= 4 && i <= 11],
    ['free text', { q: 'Churn enterprise' }, (_: SessionSpec, i: number) => i === 7],
    ['combined', { table: 'PUBLIC.CUSTOMERS', status: 'succeeded', from: new Date(day(10)) }, (_: SessionSpec, i: number) => i % 5 === 0 && i >= 9],
  ] as const)('filters by %s, exactly, across pages', async (_, query, pred) => {
    expect(await all({ ...query, limit: 2 })).toEqual(expected(pred));
  });

  it('pages newest first with no repeats, even when sessions start meanwhile', async () => {
    const first = await search.search({ limit: 7 });
    expect(first.sessions.map((s) => s.id)).toEqual(['s29', 's28', 's27', 's26', 's25', 's24', 's23']);
    for (const e of sessionEvents({ id: 'newer', at: day(31) })) await log.append(e);
    const second = await search.search({ limit: 7, cursor: first.nextCursor! });
    expect(second.sessions[0]!.id).toBe('s22');
    expect(first.sessions[0]).toMatchObject({ agent: 'bot-b', status: 'denied', tables: ['ANALYTICS.PUBLIC.ORDERS'], events: 2 });
  });

  it('a scan budget bounds each call: short pages with a cursor, and the same sessions in the end', async () => {
    const small = new AuditSearch(log, { scanBudget: 4 });
    // The walk goes over bot-a's 10 sessions, half of them Ann's; a budget of 4 candidates ends some calls early.
    const ids: string[] = [];
    let cursor: string | undefined;
    let calls = 0;
    let shortPages = 0;
    do {
      const page = await small.search({ agent: 'bot-a', owner: 'ann@example.com', limit: 3, ...(cursor ? { cursor } : {}) });
      if (page.sessions.length < 3 && page.nextCursor) shortPages++;
      ids.push(...page.sessions.map((s) => s.id));
      cursor = page.nextCursor;
      calls++;
    } while (cursor && calls < 50);
    expect(ids).toEqual(expected((_, i) => i % 3 === 0 && i % 2 === 1));
    expect(shortPages).toBeGreaterThan(0);
  });

  it('rejects a forged cursor and bad limits with BAD_REQUEST', async () => {
    await expect(search.search({ cursor: 'nope' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(search.search({ limit: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('transcript', () => {
  it('replays a session in order', async () => {
    const events = await search.transcript('s00');
    expect(events.map((e) => e.type)).toEqual(sessionEvents(specs[0]!).map((e) => e.type));
    expect(events.every((e, i) => i === 0 || e.seq > events[i - 1]!.seq)).toBe(true);
    await expect(search.transcript('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
