/**
 * The session log on Redis: one global stream `{prefix}:audit` holding a hash
 * chain, plus a per-session list of stream ids and search indexes.
 *
 * Ordering across replicas: Redis Lua has no SHA-256, so hashes are computed
 * here and appended with a compare-and-append script. The script reads the head
 * (`{seq, hash}` of the newest event), refuses when it is not the one the hashes
 * were chained to, and otherwise XADDs the events, updates the indexes and moves
 * the head — all in one atomic step. A refused batch is re-chained on the head
 * the script returned and sent again, so two replicas never fork the chain.
 *
 * Throughput: appends made while a batch is in flight wait and go together in
 * the next batch (group commit), so one process needs one round trip per batch,
 * not per event.
 */
import type { Redis } from 'ioredis';
import { AirlockError } from '../errors.ts';
import { chainEvent, GENESIS_HASH, indexTerms, type AuditEventInput, type ChainedEvent, type StoredEvent } from './events.ts';
import { auditKeys, type AuditKeys } from './keys.ts';
import type { AuditLog } from './log.ts';

/**
 * KEYS[1] stream, KEYS[2] head, KEYS[3] all-sessions index.
 * ARGV[1] expected head seq, ARGV[2] expected head hash, ARGV[3] key base, ARGV[4] n,
 * then n pairs: the event JSON (stored byte for byte) and a meta JSON for the indexes.
 * Returns {1, id…} or {0, headSeq, headHash} when the head moved.
 */
const APPEND_LUA = `
local head = redis.call('HMGET', KEYS[2], 'seq', 'hash')
local seq = head[1] or '0'
local hash = head[2] or ARGV[5 + 2 * tonumber(ARGV[4])]
if seq ~= ARGV[1] or hash ~= ARGV[2] then return {0, seq, hash} end
local base = ARGV[3]
local out = {1}
local last
for i = 0, tonumber(ARGV[4]) - 1 do
  local payload = ARGV[5 + i * 2]
  local m = cjson.decode(ARGV[6 + i * 2])
  local id = redis.call('XADD', KEYS[1], '*', 'seq', m.seq, 'session', m.session, 'type', m.type,
    'prevHash', m.prevHash, 'hash', m.hash, 'event', payload)
  out[#out + 1] = id
  local sk = base .. ':sess:' .. m.session
  local start = redis.call('HGET', sk, 'start')
  if not start then
    start = m.score
    redis.call('HSET', sk, 'start', start, 'firstAt', m.at, 'firstSeq', m.seq)
    redis.call('ZADD', KEYS[3], start, m.session)
  end
  redis.call('HSET', sk, 'lastAt', m.at, 'lastId', id, 'lastSeq', m.seq)
  redis.call('HINCRBY', sk, 'events', 1)
  redis.call('RPUSH', base .. ':s:' .. m.session, id)
  -- The summary fields, then a 't:<term>' marker per term: few HSETs of up to 256 fields each
  -- instead of one per field (same fields in the same order; unpack's stack stays small).
  local set = {}
  local function put(f, v)
    set[#set + 1] = f
    set[#set + 1] = v
    if #set >= 512 then
      redis.call('HSET', sk, unpack(set))
      set = {}
    end
  end
  for f, v in pairs(m.fields) do put(f, v) end
  for _, t in ipairs(m.terms) do
    redis.call('ZADD', base .. ':ix:' .. t, start, m.session)
    put('t:' .. t, '1')
  end
  if #set > 0 then redis.call('HSET', sk, unpack(set)) end
  if m.status ~= '' then
    local old = redis.call('HGET', sk, 'status')
    if old and old ~= m.status then
      redis.call('ZREM', base .. ':ix:status:' .. old, m.session)
      redis.call('HDEL', sk, 't:status:' .. old)
    end
    redis.call('HSET', sk, 'status', m.status, 't:status:' .. m.status, '1')
    redis.call('ZADD', base .. ':ix:status:' .. m.status, start, m.session)
  end
  last = m
end
redis.call('HSET', KEYS[2], 'seq', last.seq, 'hash', last.hash)
return out
`;

/** Options of {@link RedisAuditLog}. */
export interface RedisAuditLogOptions {
  prefix: string;
  /** The clock for event times; a parameter so tests can freeze it. */
  now?: () => Date;
  /** How long one append may wait for Redis before failing closed (ms). */
  timeoutMs?: number;
  /** Most events per atomic batch. */
  maxBatch?: number;
}

interface Pending {
  input: AuditEventInput;
  at: string;
  resolve(event: StoredEvent): void;
  reject(err: unknown): void;
  /** Told once the batch holding this event is issued to Redis (or given up). */
  sent?: () => void;
}

/** A stream entry as Redis returns it. */
export interface RawEntry {
  id: string;
  fields: Record<string, string>;
}

type AppendReply = [number, ...string[]];

const MAX_CONFLICT_RETRIES = 100;

function unavailable(cause: unknown): AirlockError {
  return new AirlockError('AUDIT_UNAVAILABLE', 'The audit log (Redis) is unavailable; nothing was run. Try again shortly.', { cause });
}

/** Redis adapter of {@link AuditLog}, with the readers verify, export and search use. */
export class RedisAuditLog implements AuditLog {
  readonly keys: AuditKeys;
  private readonly now: () => Date;
  private readonly timeoutMs: number;
  private readonly maxBatch: number;
  private queue: Pending[] = [];
  private flushing = false;
  /** The head this process last saw; undefined = ask Redis. */
  private tail: { seq: number; hash: string } | undefined;

  constructor(
    readonly redis: Redis,
    options: RedisAuditLogOptions,
  ) {
    this.keys = auditKeys(options.prefix);
    this.now = options.now ?? (() => new Date());
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.maxBatch = options.maxBatch ?? 200;
    redis.defineCommand('airlockAuditAppend', { numberOfKeys: 3, lua: APPEND_LUA });
  }

  append(input: AuditEventInput): Promise<StoredEvent> {
    return new Promise<StoredEvent>((resolve, reject) => {
      if (!input.session || typeof input.session !== 'string') {
        reject(new AirlockError('BAD_REQUEST', 'An audit event needs a session id.'));
        return;
      }
      this.queue.push({ input, at: this.now().toISOString(), resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  appendSent(events: AuditEventInput[]): { sent: Promise<void>; stored: Promise<StoredEvent[]> } {
    let left = events.length;
    let allSent: () => void = () => undefined;
    const sent = new Promise<void>((resolve) => (allSent = resolve));
    const sentOne = () => {
      if (--left === 0) allSent();
    };
    const stored = events.map(
      (input) =>
        new Promise<StoredEvent>((resolve, reject) => {
          if (!input.session || typeof input.session !== 'string') {
            sentOne();
            reject(new AirlockError('BAD_REQUEST', 'An audit event needs a session id.'));
            return;
          }
          let told = false;
          const once = () => {
            if (!told) {
              told = true;
              sentOne();
            }
          };
          const refused = (err: unknown) => {
            once();
            reject(err);
          };
          this.queue.push({ input, at: this.now().toISOString(), resolve, reject: refused, sent: once });
        }),
    );
    if (events.length === 0) allSent();
    if (!this.flushing) void this.flush();
    return { sent, stored: Promise.all(stored) };
  }

  sessionKey(session: string): string {
    return this.keys.session(session);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      // Appends made in the same tick (received + decided) go out in one batch, one round trip.
      await Promise.resolve();
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const stored = await this.commit(batch);
          batch.forEach((p, i) => {
            p.resolve(stored[i]!);
          });
        } catch (err) {
          this.tail = undefined;
          const error = err instanceof AirlockError ? err : unavailable(err);
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async commit(batch: Pending[]): Promise<StoredEvent[]> {
    let tail = this.tail ?? (await this.withTimeout(this.head()));
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const chained: ChainedEvent[] = [];
      let prev = tail;
      const args: string[] = [];
      for (const p of batch) {
        let event: ChainedEvent;
        try {
          event = chainEvent(p.input, prev.seq + 1, prev.hash, p.at);
        } catch (err) {
          throw new AirlockError('BAD_REQUEST', 'An audit event holds a value JSON cannot represent.', { cause: err });
        }
        chained.push(event);
        prev = { seq: event.seq, hash: event.hash };
        const { hash, ...hashed } = event;
        const ix = indexTerms(p.input);
        args.push(
          JSON.stringify(hashed),
          JSON.stringify({
            seq: String(event.seq),
            session: event.session,
            type: event.type,
            prevHash: event.prevHash,
            hash,
            at: event.at,
            score: String(Date.parse(event.at) || 0),
            status: ix.status ?? '',
            terms: ix.terms,
            fields: ix.fields,
          }),
        );
      }
      // The genesis hash rides as the last ARGV so the script knows it without a constant of its own.
      const appended = (this.redis as unknown as { airlockAuditAppend(...a: (string | number)[]): Promise<AppendReply> }).airlockAuditAppend(
        this.keys.stream,
        this.keys.head,
        this.keys.all,
        String(tail.seq),
        tail.hash,
        this.keys.stream,
        batch.length,
        ...args,
        GENESIS_HASH,
      );
      // On the wire: a step that checks for these events can follow on the same connection (appendSent).
      for (const p of batch) p.sent?.();
      const reply = (await this.withTimeout(appended)) as AppendReply;
      if (reply[0] === 1) {
        this.tail = prev;
        return chained.map((e, i) => ({ ...e, id: String(reply[i + 1]) }));
      }
      tail = { seq: Number(reply[1]), hash: String(reply[2]) };
    }
    throw new AirlockError('AUDIT_UNAVAILABLE', 'The audit log is too contended to append right now; try again.');
  }

  private async withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(unavailable(new Error(`no answer from Redis within ${this.timeoutMs} ms`))), this.timeoutMs);
        }),
      ]);
    } catch (err) {
      throw err instanceof AirlockError ? err : unavailable(err);
    } finally {
      clearTimeout(timer);
    }
  }

  async received(session: string): Promise<boolean> {
    try {
      const first = await this.redis.lindex(this.keys.session(session), 0);
      if (!first) return false;
      const [row] = (await this.redis.xrange(this.keys.stream, first, first)) as Array<[string, string[]]>;
      return row !== undefined && fieldsOf(row[1]).type === 'received';
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** `{seq, hash}` of the newest event (seq 0 and the genesis hash when empty). */
  async head(): Promise<{ seq: number; hash: string }> {
    return this.readPointer(this.keys.head);
  }

  /** `{seq, hash}` of the newest trimmed event: Redis's part of the chain starts after it. */
  async anchor(): Promise<{ seq: number; hash: string }> {
    return this.readPointer(this.keys.anchor);
  }

  private async readPointer(key: string): Promise<{ seq: number; hash: string }> {
    try {
      const [seq, hash] = await this.redis.hmget(key, 'seq', 'hash');
      return { seq: Number(seq ?? 0), hash: hash ?? GENESIS_HASH };
    } catch (err) {
      throw unavailable(err);
    }
  }

  /**
   * Stream entries in order from `start` to `end` (XRANGE tokens: `-`, `+`,
   * an id, or `(id` for exclusive), read `batch` at a time.
   */
  async *entries(options: { start?: string; end?: string; batch?: number } = {}): AsyncGenerator<RawEntry> {
    let start = options.start ?? '-';
    const end = options.end ?? '+';
    const count = options.batch ?? 1000;
    for (;;) {
      let rows: Array<[string, string[]]>;
      try {
        rows = (await this.redis.xrange(this.keys.stream, start, end, 'COUNT', count)) as Array<[string, string[]]>;
      } catch (err) {
        throw unavailable(err);
      }
      for (const [id, flat] of rows) yield { id, fields: fieldsOf(flat) };
      if (rows.length < count) return;
      start = `(${rows[rows.length - 1]![0]}`;
    }
  }

  /** Redis's clock in ms: stream ids come from it, so export windows use it too. */
  async redisNow(): Promise<number> {
    try {
      const [sec, usec] = await this.redis.time();
      return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** Specific entries by stream id, in the order given (missing ones are skipped). */
  async entriesById(ids: string[]): Promise<RawEntry[]> {
    if (ids.length === 0) return [];
    try {
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.xrange(this.keys.stream, id, id);
      const replies = (await pipeline.exec()) ?? [];
      const out: RawEntry[] = [];
      for (const [err, rows] of replies) {
        if (err) throw err;
        const row = (rows as Array<[string, string[]]>)[0];
        if (row) out.push({ id: row[0], fields: fieldsOf(row[1]) });
      }
      return out;
    } catch (err) {
      throw unavailable(err);
    }
  }
}

/** Compare stream ids (`ms-seq`) numerically. */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

/** Milliseconds part of a stream id. */
export function idTime(id: string): number {
  return Number(id.split('-')[0]);
}

function fieldsOf(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return fields;
}

/** Decode an entry; throws a TypeError when its event JSON is not readable. */
export function eventOf(entry: RawEntry): StoredEvent {
  const record = JSON.parse(entry.fields.event ?? '') as ChainedEvent;
  if (typeof record !== 'object' || record === null) throw new TypeError('event is not an object');
  return { ...record, hash: entry.fields.hash ?? '', id: entry.id };
}
