/**
 * Query records and results in Redis.
 *
 * Records are JSON strings under `{prefix}:q:{id}`; status changes go through
 * one Lua compare-and-set so that racing workers, replicas or a cancel resolve
 * to exactly one outcome. Results are stored in pages (a list of JSON arrays)
 * with a TTL, so a large result can be paged without loading it whole. Every
 * status change is published on `{prefix}:query-events` so waiting API
 * requests wake at once (faster than polling or BullMQ queue events).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AirlockError } from '../errors.ts';
import { TERMINAL_STATUSES, type QueryRecord, type QueryStatus, type ResultColumn, type ResultPage } from './types.ts';

/** Rows per stored page. */
export const PAGE_ROWS = 1000;

/**
 * A record is a hash: `base` (the JSON of fields fixed at creation) plus one
 * field per mutable part (`status`, `updatedAt`, `execution`, `error`), each
 * JSON. Re-encoding JSON inside Lua would turn empty arrays into objects, so
 * Lua only compares the status and writes whole fields.
 *
 * KEYS[1] record key; ARGV[1] JSON list of allowed current statuses,
 * ARGV[2] channel, ARGV[3] id, ARGV[4] TTL to set ('0' = keep), ARGV[5..] field/value pairs.
 * Returns {1, ''} on success, {0, ''} when missing, {-1, current} on conflict.
 */
const TRANSITION_LUA = `
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {0, ''} end
local status = cjson.decode(current)
local allowed = cjson.decode(ARGV[1])
local ok = false
for _, s in ipairs(allowed) do if status == s then ok = true end end
if not ok then return {-1, status} end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[4] ~= '0' then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return {1, redis.call('HGETALL', KEYS[1])}
`;

/**
 * Create only if absent, in one round trip, and claim the idempotency key in
 * the same step: a key never points at a record that does not exist (a failed
 * create leaves no claim behind; a racing replay sees the record).
 * KEYS[1] record, KEYS[2] idempotency key ('' = none); ARGV[1] ttl, ARGV[2] id,
 * ARGV[3] idempotency TTL, ARGV[4..] field/value pairs.
 * Returns {1, ''} created, {0, ''} id taken, {-1, existingId} key already claimed.
 */
const CREATE_LUA = `
if KEYS[2] ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then return {-1, existing} end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, ''} end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) end
return {1, ''}
`;

// `approval` (votes, card) is written by ApprovalStore's compare-and-set on the same hash.
const MUTABLE = ['status', 'updatedAt', 'execution', 'error', 'approval'] as const;
type MutableField = (typeof MUTABLE)[number];
export type RecordPatch = Partial<Pick<QueryRecord, MutableField>>;

function toHash(record: QueryRecord): Record<string, string> {
  const base: Partial<QueryRecord> = { ...record };
  const fields: Record<string, string> = {};
  for (const f of MUTABLE) {
    if (record[f] !== undefined) fields[f] = JSON.stringify(record[f]);
    delete base[f];
  }
  fields.base = JSON.stringify(base);
  return fields;
}

function fromHash(hash: Record<string, string>): QueryRecord | undefined {
  if (!hash.base || !hash.status) return undefined;
  const record = JSON.parse(hash.base) as QueryRecord;
  for (const f of MUTABLE) {
    const v = hash[f];
    if (v !== undefined) (record as unknown as Record<string, unknown>)[f] = JSON.parse(v);
  }
  return record;
}

/** Redis key of a query record; ApprovalStore updates the same hash. */
/** The pub/sub channel every record change is published on (long-polls listen to it). */
export function queryEventsChannel(prefix: string): string {
  return `${prefix}:query-events`;
}

export function queryRecordKey(prefix: string, id: string): string {
  return `${prefix}:q:${id}`;
}

/** Decode a record hash (for ApprovalStore, which reads the same key); undefined when incomplete. */
export function recordFromHash(hash: Record<string, string>): QueryRecord | undefined {
  return fromHash(hash);
}

export interface QueryStoreOptions {
  prefix: string;
  /** Seconds that records and results live after they finish. */
  resultTtlSeconds: number;
}

/** Repository for query records and results. */
export class QueryStore {
  readonly channel: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: QueryStoreOptions,
  ) {
    this.channel = queryEventsChannel(options.prefix);
    redis.defineCommand('airlockTransition', { numberOfKeys: 1, lua: TRANSITION_LUA });
    redis.defineCommand('airlockCreate', { numberOfKeys: 2, lua: CREATE_LUA });
  }

  private key(id: string): string {
    return `${this.options.prefix}:q:${id}`;
  }

  private resultKey(id: string): string {
    return `${this.options.prefix}:q:${id}:rows`;
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof AirlockError) throw err;
      throw new AirlockError('STORE_UNAVAILABLE', 'The query store (Redis) is unavailable; try again shortly.', { cause: err });
    }
  }

  /**
   * Create a record; fails if the id exists. Records of live queries keep for a day at most.
   * With `idempotency`, claims `idempotencyKey → id` for the agent atomically with the
   * create; when the key is already claimed nothing is written and the existing id is returned.
   */
  async create(record: QueryRecord, idempotency?: { agentId: string; key: string }): Promise<string | undefined> {
    return this.guard(async () => {
      const fields = Object.entries(toHash(record)).flat();
      const idemKey = idempotency ? this.idempotencyKey(idempotency.agentId, idempotency.key) : '';
      const [code, existing] = await (this.redis as unknown as {
        airlockCreate(key: string, idemKey: string, ttl: number, id: string, idemTtl: number, ...fields: string[]): Promise<[number, string]>;
      }).airlockCreate(this.key(record.id), idemKey, 24 * 3600, record.id, 24 * 3600, ...fields);
      if (code === -1) return existing;
      if (code !== 1) throw new AirlockError('STATE_CONFLICT', `Query ${record.id} already exists.`);
      return undefined;
    });
  }

  async get(id: string): Promise<QueryRecord | undefined> {
    return this.guard(async () => fromHash(await this.redis.hgetall(this.key(id))));
  }

  /**
   * Atomically move a record from one of `from` to the patch's status (and
   * write the other patched fields). Returns the updated record, or throws
   * STATE_CONFLICT naming the current status.
   */
  async transition(id: string, from: QueryStatus[], patch: RecordPatch): Promise<QueryRecord> {
    return this.guard(async () => {
      const full: RecordPatch = { ...patch, updatedAt: new Date().toISOString() };
      // Finished records live as long as their results.
      const ttl = patch.status && TERMINAL_STATUSES.has(patch.status) ? this.options.resultTtlSeconds : 0;
      const args: string[] = [];
      for (const f of MUTABLE) if (full[f] !== undefined) args.push(f, JSON.stringify(full[f]));
      const [code, value] = await (this.redis as unknown as {
        airlockTransition(key: string, from: string, channel: string, id: string, ttl: number, ...fields: string[]): Promise<[number, string | string[]]>;
      }).airlockTransition(this.key(id), JSON.stringify(from), this.channel, id, ttl, ...args);
      if (code === 0) throw new AirlockError('NOT_FOUND', `No query with id ${id}.`);
      if (code === -1) {
        throw new AirlockError('STATE_CONFLICT', `Query ${id} is ${String(value)}; it cannot become ${patch.status ?? 'updated'} from there.`, {
          details: { status: value },
        });
      }
      const flat = value as string[];
      const hash: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
      const record = fromHash(hash);
      if (!record) throw new AirlockError('RESULT_EXPIRED', `Query ${id} expired while it was being updated.`);
      return record;
    });
  }

  /** Store result pages; returns the sha256 over the canonical JSON of columns + rows. */
  async saveResult(id: string, columns: ResultColumn[], rows: AsyncIterable<unknown[]>): Promise<{ rowCount: number; sha256: string }> {
    return this.guard(async () => {
      const key = this.resultKey(id);
      const hash = createHash('sha256');
      hash.update(JSON.stringify(columns.map((c) => [c.name, c.type])));
      let page: unknown[][] = [];
      let rowCount = 0;
      let cleared = false;
      // Full pages are written as they fill; the last page rides in the final MULTI,
      // so a small result costs one round trip.
      const flush = async () => {
        if (page.length === 0) return;
        const multi = this.redis.multi();
        if (!cleared) multi.del(key);
        cleared = true;
        await multi.rpush(key, JSON.stringify(page)).exec();
        page = [];
      };
      for await (const row of rows) {
        const json = JSON.stringify(row);
        hash.update('\n');
        hash.update(json);
        page.push(row);
        rowCount++;
        if (page.length >= PAGE_ROWS) await flush();
      }
      const final = this.redis.multi();
      if (!cleared) final.del(key);
      if (page.length > 0) final.rpush(key, JSON.stringify(page));
      await final
        .hset(`${key}:meta`, 'columns', JSON.stringify(columns), 'rowCount', String(rowCount))
        .expire(key, this.options.resultTtlSeconds)
        .expire(`${key}:meta`, this.options.resultTtlSeconds)
        .exec();
      return { rowCount, sha256: hash.digest('hex') };
    });
  }

  /** Read a page of rows starting at `offset` (multiple of nothing in particular). */
  async readResult(id: string, offset: number, limit: number, truncated: boolean): Promise<ResultPage> {
    return this.guard(async () => {
      const key = this.resultKey(id);
      const firstPage = Math.floor(offset / PAGE_ROWS);
      const lastPage = Math.floor((Math.max(offset + limit, 1) - 1) / PAGE_ROWS);
      const replies = (await this.redis.multi().hgetall(`${key}:meta`).lrange(key, firstPage, lastPage).exec()) ?? [];
      const meta = (replies[0]?.[1] ?? {}) as Record<string, string>;
      const pages = (replies[1]?.[1] ?? []) as string[];
      if (!meta.columns) {
        throw new AirlockError('RESULT_EXPIRED', 'The result of this query is no longer stored; run the query again.');
      }
      const columns = JSON.parse(meta.columns) as ResultColumn[];
      const rowCount = Number(meta.rowCount);
      const rows: unknown[][] = [];
      pages.forEach((p, i) => {
        const pageRows = JSON.parse(p) as unknown[][];
        const base = (firstPage + i) * PAGE_ROWS;
        for (let r = 0; r < pageRows.length; r++) {
          const index = base + r;
          if (index >= offset && index < offset + limit) rows.push(pageRows[r]!);
        }
      });
      const end = offset + rows.length;
      return {
        columns,
        rows,
        offset,
        rowCount,
        truncated,
        ...(end < rowCount ? { nextCursor: encodeCursor(end) } : {}),
      };
    });
  }

  /** Where `idempotencyKey → id` is kept for an agent (hashed: keys are agent-chosen text). */
  private idempotencyKey(agentId: string, key: string): string {
    return `${this.options.prefix}:idem:${createHash('sha256').update(`${agentId}\u0000${key}`).digest('hex')}`;
  }
}

/** Cursors are opaque to agents; today they carry a row offset. */
export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { o?: unknown };
    if (typeof value.o === 'number' && Number.isSafeInteger(value.o) && value.o >= 0) return value.o;
  } catch {
    // fall through
  }
  throw new AirlockError('BAD_REQUEST', 'The cursor is not valid; use the nextCursor value from a previous page.');
}
