/**
 * Search sessions and replay one (GET /v1/sessions, GET /v1/sessions/:id).
 *
 * Every filter is a sorted set of session ids scored by the session's start
 * time. A search walks the smallest matching set newest-first inside [from, to]
 * and probes the others (ZSCORE) until a page is full — one Lua call, no
 * temporary keys, and it stops early, so a common filter costs about a page.
 * Cursors are keyset (score + id), so sessions started meanwhile neither
 * repeat nor shift a page.
 */
import { AirlockError } from '../errors.ts';
import { nameSuffixes, normalizeApprover, words, type StoredEvent } from './events.ts';
import { eventOf, type RedisAuditLog } from './redis-log.ts';

/** Filters of a session search; all optional, combined with AND. */
export interface SessionQuery {
  agent?: string;
  owner?: string;
  /** Slack user id or email of someone who voted. */
  approver?: string;
  /** A table or column, any suffix: `ANALYTICS.PUBLIC.CUSTOMERS`, `CUSTOMERS`, `CUSTOMERS.SSN`. */
  table?: string;
  status?: string;
  /** Sessions started at or after. */
  from?: Date;
  /** Sessions started at or before. */
  to?: Date;
  /** Words that must all occur in the prompt, purpose, SQL or agent name. */
  q?: string;
  cursor?: string;
  /** Page size, 1–500 (default 50). */
  limit?: number;
}

/** One line of a search result. */
export interface SessionSummary {
  id: string;
  agent?: string;
  owner?: string;
  status?: string;
  action?: string;
  risk?: string;
  fingerprint?: string;
  tables: string[];
  votes: Array<{ who: string; vote: string }>;
  startedAt: string;
  lastAt: string;
  events: number;
}

export interface SessionPage {
  sessions: SessionSummary[];
  nextCursor?: string;
}

/**
 * KEYS: the filter sets. ARGV[1] max score, ARGV[2] min score, ARGV[3] cursor
 * score ('' = first page), ARGV[4] cursor id, ARGV[5] how many to return,
 * ARGV[6] how many candidates one call may look at. Returns {id, score pairs
 * newest first, continuation id, continuation score}; the continuation is set
 * when the budget ran out before the page filled, so no caller can hold Redis
 * for a long scan (a filter that matches little inside a large set).
 */
const SEARCH_LUA = `
local best, bestCard = 1, -1
for i = 1, #KEYS do
  local c = redis.call('ZCARD', KEYS[i])
  if c == 0 then return {{}, '', ''} end
  if bestCard < 0 or c < bestCard then best, bestCard = i, c end
end
local want = tonumber(ARGV[5])
local budget = tonumber(ARGV[6])
local maxS = ARGV[1]
local cs = nil
if ARGV[3] ~= '' then maxS = ARGV[3]; cs = tonumber(ARGV[3]) end
local out, n, offset, scanned = {}, 0, 0, 0
local lastM, lastS = '', ''
while n < want do
  local batch = redis.call('ZRANGE', KEYS[best], maxS, ARGV[2], 'BYSCORE', 'REV', 'LIMIT', offset, 500, 'WITHSCORES')
  if #batch == 0 then return {out, '', ''} end
  for j = 1, #batch, 2 do
    local m, s = batch[j], batch[j + 1]
    if not (cs and tonumber(s) == cs and m >= ARGV[4]) then
      local ok = true
      for i = 1, #KEYS do
        if i ~= best and not redis.call('ZSCORE', KEYS[i], m) then ok = false; break end
      end
      if ok then
        out[#out + 1] = m; out[#out + 1] = s; n = n + 1
        if n >= want then return {out, '', ''} end
      end
      scanned = scanned + 1
      lastM, lastS = m, s
      if scanned >= budget then return {out, lastM, lastS} end
    end
  end
  offset = offset + 500
end
return {out, '', ''}
`;

function encodeCursor(score: string, id: string): string {
  return Buffer.from(JSON.stringify({ s: score, i: id })).toString('base64url');
}

function decodeCursor(cursor: string): { s: string; i: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { s?: unknown; i?: unknown };
    if (typeof v.s === 'string' && /^-?\d+(\.\d+)?$/.test(v.s) && typeof v.i === 'string') return { s: v.s, i: v.i };
  } catch {
    // fall through
  }
  throw new AirlockError('BAD_REQUEST', 'The cursor is not valid; use the nextCursor value from a previous page.');
}

/** The index terms a query needs, `kind:value` (exported for tests and the API's validation). */
export function queryTerms(query: SessionQuery): string[] {
  const terms: string[] = [];
  if (query.agent) terms.push(`agent:${query.agent}`);
  if (query.owner) terms.push(`owner:${query.owner.toLowerCase()}`);
  if (query.approver) terms.push(`approver:${normalizeApprover(query.approver)}`);
  if (query.table) {
    const name = query.table.replaceAll('"', '').trim();
    const full = nameSuffixes(name)[0];
    if (!full) throw new AirlockError('BAD_REQUEST', 'table must name a table or column, e.g. CUSTOMERS.SSN.');
    terms.push(`obj:${full}`);
  }
  if (query.status) terms.push(`status:${query.status}`);
  if (query.q) {
    const ws = words(query.q, 20);
    if (ws.length === 0) throw new AirlockError('BAD_REQUEST', 'q must contain at least one word of two letters or more.');
    for (const w of ws) terms.push(`word:${w}`);
  }
  return terms;
}

/** Reads sessions from the Redis audit log. */
export class AuditSearch {
  /** Candidates one search call may look at before it answers with what it has and a cursor. */
  private readonly scanBudget: number;

  constructor(
    private readonly log: RedisAuditLog,
    options: { scanBudget?: number } = {},
  ) {
    this.scanBudget = options.scanBudget ?? 20_000;
    log.redis.defineCommand('airlockAuditSearch', { lua: SEARCH_LUA });
  }

  async search(query: SessionQuery): Promise<SessionPage> {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new AirlockError('BAD_REQUEST', 'limit must be an integer from 1 to 500.');
    const terms = queryTerms(query);
    const keys = terms.length > 0 ? terms.map((t) => this.log.keys.term(t)) : [this.log.keys.all];
    const max = query.to ? String(query.to.getTime()) : '+inf';
    const min = query.from ? String(query.from.getTime()) : '-inf';
    const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
    const [flat, contId, contScore] = await this.guard(() =>
      (this.log.redis as unknown as { airlockAuditSearch(n: number, ...a: string[]): Promise<[string[], string, string]> }).airlockAuditSearch(
        keys.length,
        ...keys,
        max,
        min,
        cursor?.s ?? '',
        cursor?.i ?? '',
        String(limit + 1),
        String(this.scanBudget),
      ),
    );
    const ids: Array<{ id: string; score: string }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) ids.push({ id: flat[i]!, score: flat[i + 1]! });
    const more = ids.length > limit;
    const page = ids.slice(0, limit);
    const sessions = await this.summaries(page.map((p) => p.id));
    const lastOfPage = page[page.length - 1];
    if (more && lastOfPage) return { sessions, nextCursor: encodeCursor(lastOfPage.score, lastOfPage.id) };
    // The scan budget ran out first: a short (even empty) page, and a cursor that goes on from where the scan stopped.
    if (contId) return { sessions, nextCursor: encodeCursor(contScore, contId) };
    return { sessions };
  }

  /** Summaries of sessions by id, in the order given (unknown ids skipped). */
  async summaries(ids: string[]): Promise<SessionSummary[]> {
    if (ids.length === 0) return [];
    const replies = await this.guard(async () => {
      const p = this.log.redis.pipeline();
      for (const id of ids) p.hgetall(this.log.keys.summary(id));
      return ((await p.exec()) ?? []) as Array<[Error | null, Record<string, string>]>;
    });
    const out: SessionSummary[] = [];
    ids.forEach((id, i) => {
      const h = replies[i]?.[1];
      if (!h?.start) return;
      const votes = Object.entries(h)
        .filter(([k]) => k.startsWith('voter:'))
        .map(([k, v]) => ({ who: k.slice(6), vote: v }));
      out.push({
        id,
        ...(h.agent ? { agent: h.agent } : {}),
        ...(h.owner ? { owner: h.owner } : {}),
        ...(h.status ? { status: h.status } : {}),
        ...(h.action ? { action: h.action } : {}),
        ...(h.risk ? { risk: h.risk } : {}),
        ...(h.fingerprint ? { fingerprint: h.fingerprint } : {}),
        tables: h.tables ? (JSON.parse(h.tables) as string[]) : [],
        votes,
        startedAt: h.firstAt ?? new Date(Number(h.start)).toISOString(),
        lastAt: h.lastAt ?? '',
        events: Number(h.events ?? 0),
      });
    });
    return out;
  }

  /**
   * Every event of a session, in order (replay). Events already trimmed from
   * Redis live in the exports and are not returned. NOT_FOUND for an unknown session.
   */
  async transcript(sessionId: string): Promise<StoredEvent[]> {
    const ids = await this.guard(() => this.log.redis.lrange(this.log.keys.session(sessionId), 0, -1));
    if (ids.length === 0) throw new AirlockError('NOT_FOUND', `No session with id ${sessionId}.`);
    const entries = await this.log.entriesById(ids);
    return entries.map((e) => eventOf(e)).sort((a, b) => a.seq - b.seq);
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof AirlockError) throw err;
      throw new AirlockError('AUDIT_UNAVAILABLE', 'The audit log (Redis) is unavailable; try again shortly.', { cause: err });
    }
  }
}
