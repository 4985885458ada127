/**
 * Query records and results in Redis.
 *
 * Records are hashes under `queryKeys(prefix).record(id)`; every change goes
 * through one Lua compare-and-set ({@link QueryStore.transition} for "from one
 * of these statuses", {@link QueryStore.update} for read-decide-write, which
 * ApprovalStore uses for votes), so racing workers, replicas, votes or a cancel
 * resolve to exactly one outcome. The same script keeps the pending index (a
 * sorted set of the ids in `pending_approval`) and publishes every change on
 * the events channel, so waiting API requests wake at once. Results are stored
 * in pages (a list of JSON arrays) with a TTL, so a large result can be paged
 * without loading it whole. The scripts are in `store-scripts.ts`, the
 * record's hash form in `record-codec.ts`.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { systemClock, type Clock } from '../clock.ts';
import { AirlockError } from '../errors.ts';
import { encodeCursor } from './cursor.ts';
import { queryKeys, type QueryKeys } from './keys.ts';
import { assertInitial, assertTransitions } from './lifecycle.ts';
import { fromHash, MUTABLE, pairs, toHash, type RecordPatch } from './record-codec.ts';
import { CAS_LUA, CREATE_LUA, type CasArgs, type Scripts } from './store-scripts.ts';
import { TERMINAL_STATUSES, type ExecutionInfo, type QueryRecord, type QueryStatus, type ResultColumn, type ResultPage } from './types.ts';

export { queryRecordKey } from './keys.ts';
export type { RecordPatch } from './record-codec.ts';

/** {@link QueryStore.createAfter}: the key it had to follow did not exist, so nothing was written. */
export const NOT_AFTER = Symbol('not-after');

/** Rows per stored page. */
export const PAGE_ROWS = 1000;

/** Seconds a record lives before it finishes (a review expires long before). */
const LIVE_TTL_SECONDS = 24 * 3600;


/** A read-decide-write step: a value for the caller, and the fields to write (none: nothing is written). */
export type Decide<T> = (record: QueryRecord) => { value: T; patch?: RecordPatch };

/** Rounds of {@link QueryStore.update} before giving up; each round lets at least one contender through. */
const MAX_ROUNDS = 200;

/** What a compare-and-set expects to find: one of `statuses`, and, when given, exactly this raw value of one field ('' = absent). */
interface Expected {
  statuses: readonly QueryStatus[];
  raw?: { field: 'approval' | 'execution'; value: string };
  /** Only when no worker holds a lease on the query (taking over a dead worker's query). */
  noLease?: boolean;
}

/**
 * What else a worker's write expects: no lease held (`noLease`: taking over a
 * dead worker's query), or the `execution` field exactly as this run wrote or
 * read it (`execution`, raw JSON; '' = none yet), so a run whose lease lapsed
 * cannot overwrite what the run that took over wrote, and two takers of one
 * retry resolve to one.
 */
export interface Guard {
  noLease?: boolean;
  execution?: string;
}

function guarded(from: readonly QueryStatus[], guard: Guard | undefined): Expected {
  return {
    statuses: from,
    ...(guard?.noLease ? { noLease: true } : {}),
    ...(guard?.execution !== undefined ? { raw: { field: 'execution' as const, value: guard.execution } } : {}),
  };
}

/**
 * What a write does to the execute lane's sets besides the record (leaving
 * `running` always drops the lease): `leaseMs` gives the query a lease of
 * that length (a worker starts it), `retryAfterMs` schedules it to run again.
 */
export interface LaneEffects {
  leaseMs?: number;
  retryAfterMs?: number;
}

type CasResult = { code: 'written'; record: QueryRecord } | { code: 'missing' } | { code: 'conflict'; status: string };


/** What the compare-and-set script answered. */
function casResult(id: string, code: number, value: string | string[]): CasResult {
  if (code === 0) return { code: 'missing' };
  if (code === -1) return { code: 'conflict', status: String(value) };
  const record = fromHash(pairs(value as string[]));
  if (!record) throw new AirlockError('RESULT_EXPIRED', `Query ${id} expired while it was being updated.`);
  return { code: 'written', record };
}

/** A written compare-and-set's record; NOT_FOUND or STATE_CONFLICT (naming the current status) otherwise. */
function writtenOrThrow(id: string, result: CasResult, to: QueryStatus | undefined): QueryRecord {
  if (result.code === 'missing') throw new AirlockError('NOT_FOUND', `No query with id ${id}.`);
  if (result.code === 'conflict') {
    throw new AirlockError('STATE_CONFLICT', `Query ${id} is ${result.status}; it cannot become ${to ?? 'updated'} from there.`, {
      details: { status: result.status },
    });
  }
  return result.record;
}

export interface QueryStoreOptions {
  prefix: string;
  /** Seconds that records and results live after they finish. */
  resultTtlSeconds: number;
  /** Stamps `updatedAt` (default: the wall clock). */
  clock?: Clock;
}


/** Run a Redis operation of the query store: Airlock errors pass, anything else is STORE_UNAVAILABLE. */
export async function guardStore<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof AirlockError) throw err;
    throw new AirlockError('STORE_UNAVAILABLE', 'The query store (Redis) is unavailable; try again shortly.', { cause: err });
  }
}

/** Repository for query records and results. */
export class QueryStore {
  /** The pub/sub channel every record change is published on. */
  readonly channel: string;
  private readonly keys: QueryKeys;
  /** Records written before the pending index existed are added to it once per process. */
  private backfilled = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: QueryStoreOptions,
  ) {
    this.keys = queryKeys(options.prefix);
    this.channel = this.keys.events;
    redis.defineCommand('airlockCas', { numberOfKeys: 5, lua: CAS_LUA });
    redis.defineCommand('airlockCreate', { numberOfKeys: 5, lua: CREATE_LUA });
  }

  private get scripts(): Scripts {
    return this.redis as unknown as Scripts;
  }

  private guard<T>(op: () => Promise<T>): Promise<T> {
    return guardStore(op);
  }

  /**
   * Create a record; fails if the id exists. Records of live queries keep for a day at most.
   * With `idempotency`, claims `idempotencyKey → id` for the agent atomically with the
   * create; when the key is already claimed nothing is written and the existing id is returned.
   */
  async create(record: QueryRecord, idempotency?: { agentId: string; key: string }): Promise<string | undefined> {
    const created = await this.createAfter(record, idempotency, undefined);
    return created === NOT_AFTER ? undefined : created;
  }

  /**
   * {@link create}, but only once `required` exists (a key of the session
   * log: the create may be sent right behind the append that writes it).
   * {@link NOT_AFTER} when it did not exist, and nothing was written.
   */
  async createAfter(record: QueryRecord, idempotency: { agentId: string; key: string } | undefined, required: string | undefined): Promise<string | undefined | typeof NOT_AFTER> {
    assertInitial(record.status);
    return this.guard(async () => {
      const fields = Object.entries(toHash(record)).flat();
      // No idempotency key: the record's own key stands in (an empty key name would hash to another slot on a cluster).
      const idemKey = idempotency ? this.keys.idempotency(idempotency.agentId, idempotency.key) : this.keys.record(record.id);
      const created = String(Date.parse(record.createdAt));
      const score = record.status === 'pending_approval' ? created : '';
      const intakeScore = record.status === 'denied' ? '' : created;
      const [code, existing] = await this.scripts.airlockCreate(
        this.keys.record(record.id),
        idemKey,
        this.keys.pending,
        this.keys.intake,
        required ?? this.keys.record(record.id),
        LIVE_TTL_SECONDS,
        record.id,
        LIVE_TTL_SECONDS,
        score,
        intakeScore,
        ...fields,
      );
      if (code === -1) return existing;
      if (code === -2) return NOT_AFTER;
      if (code !== 1) throw new AirlockError('STATE_CONFLICT', `Query ${record.id} already exists.`);
      return undefined;
    });
  }

  /** The id an agent's idempotency key was claimed for, if any (a replay answers from it without logging a new request). */
  async claimed(agentId: string, key: string): Promise<string | undefined> {
    return this.guard(async () => (await this.redis.get(this.keys.idempotency(agentId, key))) ?? undefined);
  }

  /** Ids in the intake index created before `beforeMs` (oldest first, at most `limit`): accepted, first steps unconfirmed. */
  async intakeDue(beforeMs: number, limit: number): Promise<string[]> {
    return this.guard(() => this.redis.zrangebyscore(this.keys.intake, '-inf', beforeMs, 'LIMIT', 0, limit));
  }

  /** Remember that the agent asked to cancel a running query (for a day: longer than any statement runs). */
  async requestCancel(id: string): Promise<void> {
    await this.guard(() => this.redis.set(this.keys.cancelRequest(id), '1', 'EX', LIVE_TTL_SECONDS));
  }

  /** Whether the agent asked to cancel this query while it ran. */
  async cancelRequested(id: string): Promise<boolean> {
    return this.guard(async () => (await this.redis.exists(this.keys.cancelRequest(id))) === 1);
  }

  /** Drop a query's backstop in the execute lane's delayed set: it is gone or finished, so nothing should bring it back. */
  async laneForget(id: string): Promise<void> {
    await this.guard(() => this.redis.zrem(this.keys.delayed, id));
  }

  /** Drop ids from the intake index: their first steps are done (or they ended). */
  async intakeDone(...ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.guard(() => this.redis.zrem(this.keys.intake, ...ids));
  }

  async get(id: string): Promise<QueryRecord | undefined> {
    return this.guard(async () => fromHash(await this.redis.hgetall(this.keys.record(id))));
  }

  /**
   * Atomically move a record from one of `from` to the patch's status (and
   * write the other patched fields). Returns the updated record, or throws
   * STATE_CONFLICT naming the current status. `lane`: the execute lane's part
   * of the same step ({@link LaneEffects}; `noLease`: only when no worker
   * holds a lease on it, else STATE_CONFLICT).
   */
  async transition(id: string, from: QueryStatus[], patch: RecordPatch, lane?: LaneEffects & Guard): Promise<QueryRecord> {
    return writtenOrThrow(id, await this.cas(id, guarded(from, lane), patch, lane), patch.status);
  }

  /**
   * queued → running for a query that never started (no `execution` field
   * yet: every start writes one), read back as it is written: the worker's
   * common case in one round trip instead of a read and a transition. The
   * query gets a lease of `leaseMs` in the same step (and leaves the intake
   * index). Undefined when the query is anything else (missing, not queued, or
   * started before); the caller then reads it and decides.
   */
  async start(id: string, execution: ExecutionInfo, leaseMs: number): Promise<QueryRecord | undefined> {
    const result = await this.cas(id, { statuses: ['queued'], raw: { field: 'execution', value: '' } }, { status: 'running', execution }, { leaseMs });
    return result.code === 'written' ? result.record : undefined;
  }

  /**
   * Read, decide, compare-and-set; retry from a fresh read when the record
   * changed in between (its status or its `approval` field). Undefined when
   * the record does not exist. Lock-free: each round at least one contender
   * commits, so N racing callers finish in at most N rounds.
   */
  async update<T>(id: string, decide: Decide<T>): Promise<{ value: T; record: QueryRecord } | undefined> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const hash = await this.guard(() => this.redis.hgetall(this.keys.record(id)));
      const record = fromHash(hash);
      if (!record) return undefined;
      const { value, patch } = decide(record);
      if (!patch) return { value, record };
      const result = await this.cas(id, { statuses: [record.status], raw: { field: 'approval', value: hash.approval ?? '' } }, patch);
      if (result.code === 'missing') return undefined;
      if (result.code === 'written') return { value, record: result.record };
      // Lost the race: someone else wrote first. Back off a little once contention persists.
      if (round >= 3) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, round)));
    }
    throw new AirlockError('STORE_UNAVAILABLE', `Query ${id} is changing too fast to record this; try again.`);
  }

  /**
   * The one compare-and-set: refuses a status change the lifecycle table does
   * not allow (before touching Redis), stamps `updatedAt`, gives a record that
   * reaches a terminal status the life of its results, and keeps the pending index.
   */
  private async cas(id: string, expected: Expected, patch: RecordPatch, lane?: LaneEffects): Promise<CasResult> {
    const args = this.casArgs(id, expected, patch, lane);
    return this.guard(async () => {
      const [code, value] = await this.scripts.airlockCas(...args);
      return casResult(id, code, value);
    });
  }

  /** The compare-and-set script's arguments (checks the lifecycle table first: throws before touching Redis). */
  private casArgs(id: string, expected: Expected, patch: RecordPatch, lane: LaneEffects = {}): CasArgs {
    if (patch.status) assertTransitions(expected.statuses, patch.status);
    const full: RecordPatch = { ...patch, updatedAt: (this.options.clock ?? systemClock)().toISOString() };
    // Finished records live as long as their results.
    const ttl = patch.status && TERMINAL_STATUSES.has(patch.status) ? this.options.resultTtlSeconds : 0;
    const fields: string[] = [];
    for (const f of MUTABLE) if (full[f] !== undefined) fields.push(f, JSON.stringify(full[f]));
    return [
      this.keys.record(id),
      this.keys.pending,
      this.keys.leases,
      this.keys.intake,
      this.keys.delayed,
      JSON.stringify(expected.statuses),
      expected.raw?.field ?? '',
      expected.raw?.value ?? '',
      this.channel,
      id,
      ttl,
      patch.status ?? '',
      lane.leaseMs !== undefined ? String(Math.round(lane.leaseMs)) : '',
      lane.retryAfterMs !== undefined ? String(Math.round(lane.retryAfterMs)) : '',
      expected.noLease ? '1' : '',
      ...fields,
    ];
  }

  /**
   * Queries waiting for approval, newest first, at most `limit`, from the
   * pending index. Ids whose record is gone (it lived its day) or no longer
   * pending are dropped from the index on the way.
   */
  async pending(limit: number): Promise<QueryRecord[]> {
    return this.guard(async () => {
      if (!this.backfilled) {
        await this.backfillPending();
        this.backfilled = true;
      }
      const out: QueryRecord[] = [];
      const stale: string[] = [];
      for (let start = 0; out.length < limit; start += limit) {
        const ids = await this.redis.zrevrange(this.keys.pending, start, start + limit - 1);
        if (ids.length === 0) break;
        for (const id of ids) {
          const record = fromHash(await this.redis.hgetall(this.keys.record(id)));
          if (record?.status !== 'pending_approval') stale.push(id);
          else if (out.length < limit) out.push(record);
        }
      }
      if (stale.length > 0) await this.redis.zrem(this.keys.pending, ...stale);
      return out;
    });
  }

  /**
   * Index the pending records written by a version without the index (once per
   * process, so every replica of an upgrade catches what older replicas wrote
   * before it started). A record decided meanwhile is dropped again by {@link pending}.
   */
  private async backfillPending(): Promise<void> {
    const base = this.keys.record('');
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.keys.recordPattern, 'COUNT', 500);
      cursor = next;
      const ids = keys.map((k) => k.slice(base.length)).filter((id) => !id.includes(':'));
      if (ids.length === 0) continue;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hmget(this.keys.record(id), 'status', 'base');
      const replies = (await pipeline.exec()) ?? [];
      const add: Array<string | number> = [];
      replies.forEach(([, reply], i) => {
        const [status, baseJson] = (reply ?? []) as Array<string | null>;
        if (status !== JSON.stringify('pending_approval') || !baseJson) return;
        add.push(Date.parse((JSON.parse(baseJson) as QueryRecord).createdAt), ids[i]!);
      });
      if (add.length > 0) await this.redis.zadd(this.keys.pending, 'NX', ...add);
    } while (cursor !== '0');
  }

  /**
   * Store result pages; returns the sha256 over the canonical JSON of columns + rows.
   * With `then`, the record moves `from` → `then.patch(saved)` in the same MULTI as
   * the last page: one round trip for a one-page result, and no reader sees the
   * status without its rows. It throws as {@link transition} does when the record
   * is not in `from` (the rows stay, for nothing, until their TTL).
   */
  async saveResult(
    id: string,
    columns: ResultColumn[],
    rows: AsyncIterable<unknown[]>,
    then?: { from: QueryStatus[]; patch(saved: { rowCount: number; sha256: string }): RecordPatch; guard?: Guard },
  ): Promise<{ rowCount: number; sha256: string; record?: QueryRecord }> {
    return this.guard(async () => {
      const key = this.keys.rows(id);
      const meta = this.keys.rowsMeta(id);
      const hash = createHash('sha256');
      hash.update(JSON.stringify(columns.map((c) => [c.name, c.type])));
      // Each row is encoded once, for the hash and the page alike (a page is its rows' JSON joined).
      let page: string[] = [];
      const pageJson = () => `[${page.join(',')}]`;
      let rowCount = 0;
      let cleared = false;
      // Full pages are written as they fill; the last page rides in the final MULTI,
      // so a small result costs one round trip.
      const flush = async () => {
        if (page.length === 0) return;
        const multi = this.redis.multi();
        if (!cleared) multi.del(key);
        cleared = true;
        await multi.rpush(key, pageJson()).exec();
        page = [];
      };
      for await (const row of rows) {
        const json = JSON.stringify(row);
        hash.update('\n');
        hash.update(json);
        page.push(json);
        rowCount++;
        if (page.length >= PAGE_ROWS) await flush();
      }
      const final = this.redis.multi();
      if (!cleared) final.del(key);
      if (page.length > 0) final.rpush(key, pageJson());
      final
        .hset(meta, 'columns', JSON.stringify(columns), 'rowCount', String(rowCount))
        .expire(key, this.options.resultTtlSeconds)
        .expire(meta, this.options.resultTtlSeconds);
      const saved = { rowCount, sha256: hash.digest('hex') };
      const patch = then?.patch(saved);
      if (then && patch) (final as unknown as Scripts).airlockCas(...this.casArgs(id, guarded(then.from, then.guard), patch));
      const replies = (await final.exec()) ?? [];
      if (!then || !patch) return saved;
      const [err, reply] = replies[replies.length - 1] ?? [new Error('no reply')];
      if (err) throw err;
      const [code, value] = reply as [number, string | string[]];
      return { ...saved, record: writtenOrThrow(id, casResult(id, code, value), patch.status) };
    });
  }

  /** Read a page of rows starting at `offset` (multiple of nothing in particular). */
  async readResult(id: string, offset: number, limit: number, truncated: boolean): Promise<ResultPage> {
    return this.guard(async () => {
      const key = this.keys.rows(id);
      const firstPage = Math.floor(offset / PAGE_ROWS);
      const lastPage = Math.floor((Math.max(offset + limit, 1) - 1) / PAGE_ROWS);
      const replies = (await this.redis.multi().hgetall(this.keys.rowsMeta(id)).lrange(key, firstPage, lastPage).exec()) ?? [];
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
}
