/**
 * Export the session log to object storage, then trim what was exported.
 *
 * Per time window of stream time (Redis's clock, the one stream ids come
 * from), the events go into one gzip JSONL file (split after
 * `maxEventsPerFile`), then a manifest: first/last hash, count, sha256 of the
 * file. Only after the manifest is written does the checkpoint in Redis move
 * (`{prefix}:audit:export`), so a crash at any point is resumed by the next run:
 * - before the manifest: the file is written again under the same name
 *   (names and gzip bytes are deterministic);
 * - after the manifest but before the checkpoint: the next run finds that
 *   manifest, checks it against Redis, and adopts it instead of exporting again.
 * No event is exported twice under two manifests, none is skipped.
 *
 * Trimming removes from Redis only events at or before the checkpoint that are
 * also older than the retention, and records the last trimmed event as the
 * anchor the Redis chain now starts from.
 */
import { createHash, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { AirlockError } from '../errors.ts';
import type { StoredEvent } from './events.ts';
import { exportKeys, manifestPrefixFor, parseManifest, type ExportManifest } from './manifest.ts';
import { toOcsfApiActivity } from './ocsf.ts';
import { compareIds, eventOf, idTime, type RawEntry, type RedisAuditLog } from './redis-log.ts';
import type { ExportStore } from './export-port.ts';
import type { Progress } from './verify.ts';

/** Where the export stands; only ever moves forward. */
export interface ExportCheckpoint {
  lastId?: string;
  lastSeq: number;
  lastHash?: string;
  seriesStartSeq?: number;
}

export interface ExportOptions {
  log: RedisAuditLog;
  store: ExportStore;
  /** Window length in ms (default one hour). */
  windowMs?: number;
  /** `now`: everything up to this moment (the CLI); `closed`: only windows that have ended (the repeatable job). */
  upTo?: 'now' | 'closed';
  /** For the first export only: start at this time instead of the oldest event. */
  since?: Date;
  /** Also write OCSF API Activity records. */
  ocsf?: boolean;
  maxEventsPerFile?: number;
  /** The lock's lifetime; a crashed exporter blocks others this long at most. */
  lockTtlMs?: number;
  progress?: Progress;
}

export interface ExportResult {
  files: number;
  events: number;
  /** Manifests found from a crashed run and adopted. */
  adopted: number;
  checkpoint: ExportCheckpoint;
  manifests: string[];
}

/** KEYS[1] checkpoint; ARGV[1] expected lastId ('' = none), then field/value pairs. */
const ADVANCE_LUA = `
local cur = redis.call('HGET', KEYS[1], 'lastId') or ''
if cur ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
`;

const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** KEYS[1] stream, KEYS[2] anchor; ARGV[1] seq, ARGV[2] hash, ARGV[3] min id to keep. */
const TRIM_LUA = `
redis.call('HSET', KEYS[2], 'seq', ARGV[1], 'hash', ARGV[2])
return redis.call('XTRIM', KEYS[1], 'MINID', ARGV[3])
`;

type Scripts = {
  airlockAuditAdvance(key: string, expected: string, ...fields: string[]): Promise<number>;
  airlockAuditRelease(key: string, token: string): Promise<number>;
  airlockAuditTrim(stream: string, anchor: string, seq: string, hash: string, minId: string): Promise<number>;
};

function scripts(log: RedisAuditLog): Scripts {
  const redis = log.redis as unknown as Scripts & { defineCommand(name: string, def: { numberOfKeys: number; lua: string }): void };
  if (typeof (redis as Partial<Scripts>).airlockAuditAdvance !== 'function') {
    redis.defineCommand('airlockAuditAdvance', { numberOfKeys: 1, lua: ADVANCE_LUA });
    redis.defineCommand('airlockAuditRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    redis.defineCommand('airlockAuditTrim', { numberOfKeys: 2, lua: TRIM_LUA });
  }
  return redis;
}

async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof AirlockError) throw err;
    throw new AirlockError('AUDIT_UNAVAILABLE', 'The audit export failed: Redis or the export store is unavailable.', { cause: err });
  }
}

/** Read the export checkpoint. */
export async function readCheckpoint(log: RedisAuditLog): Promise<ExportCheckpoint> {
  return guard(async () => {
    const h = await log.redis.hgetall(log.keys.checkpoint);
    return {
      ...(h.lastId ? { lastId: h.lastId } : {}),
      lastSeq: Number(h.lastSeq ?? 0),
      ...(h.lastHash ? { lastHash: h.lastHash } : {}),
      ...(h.seriesStartSeq ? { seriesStartSeq: Number(h.seriesStartSeq) } : {}),
    };
  });
}

async function advance(log: RedisAuditLog, from: ExportCheckpoint, to: Required<ExportCheckpoint>): Promise<void> {
  const ok = await scripts(log).airlockAuditAdvance(
    log.keys.checkpoint,
    from.lastId ?? '',
    'lastId',
    to.lastId,
    'lastSeq',
    String(to.lastSeq),
    'lastHash',
    to.lastHash,
    'seriesStartSeq',
    String(to.seriesStartSeq),
  );
  if (ok !== 1) throw new AirlockError('STATE_CONFLICT', 'Another exporter moved the audit export checkpoint; stopping this run.');
}

interface Group {
  windowFrom: number;
  events: StoredEvent[];
}

/** How long a span of events one export file covers (AIRLOCK_AUDIT_EXPORT_WINDOW_SECONDS uses the same default). */
export const DEFAULT_EXPORT_WINDOW_SECONDS = 3600;

/** Export everything not yet exported (see the module comment). */
export async function exportAudit(options: ExportOptions): Promise<ExportResult> {
  const { log, store } = options;
  const windowMs = options.windowMs ?? DEFAULT_EXPORT_WINDOW_SECONDS * 1000;
  const maxPerFile = options.maxEventsPerFile ?? 50_000;
  const progress = options.progress ?? (() => undefined);
  const token = randomUUID();
  const locked = await guard(() => log.redis.set(log.keys.exportLock, token, 'PX', options.lockTtlMs ?? 120_000, 'NX'));
  if (locked !== 'OK') throw new AirlockError('STATE_CONFLICT', 'Another audit export is running (or one crashed less than two minutes ago).');
  const result: ExportResult = { files: 0, events: 0, adopted: 0, checkpoint: { lastSeq: 0 }, manifests: [] };
  try {
    let cp = await readCheckpoint(log);
    cp = await adoptCrashedManifests(log, store, cp, result, progress);
    const nowMs = await log.redisNow();
    const cutoff = options.upTo === 'closed' ? Math.floor(nowMs / windowMs) * windowMs : nowMs;
    let start = cp.lastId ? `(${cp.lastId}` : '-';
    if (!cp.lastId && options.since) start = `${options.since.getTime()}-0`;
    else if (cp.lastId && options.since) progress(`--since ignored: resuming after the last export (seq ${cp.lastSeq})`);
    // Every later XADD gets an id at or after Redis's "now", so `(cutoff-0` is a stable end.
    const end = `(${cutoff}-0`;
    let group: Group | undefined;
    const flush = async () => {
      if (!group || group.events.length === 0) return;
      cp = await writeGroup(options, cp, group, windowMs);
      result.files++;
      result.events += group.events.length;
      result.manifests.push(exportKeys(new Date(group.windowFrom), group.events[0]!.seq, cp.lastSeq).manifest);
      progress(`exported seq ${group.events[0]!.seq}–${cp.lastSeq} (${group.events.length} events, window ${new Date(group.windowFrom).toISOString()})`);
      await guard(() => log.redis.pexpire(log.keys.exportLock, options.lockTtlMs ?? 120_000));
      group = undefined;
    };
    for await (const entry of log.entries({ start, end })) {
      const event = readable(entry);
      const windowFrom = Math.floor(idTime(entry.id) / windowMs) * windowMs;
      if (group && (group.windowFrom !== windowFrom || group.events.length >= maxPerFile)) await flush();
      group ??= { windowFrom, events: [] };
      group.events.push(event);
    }
    await flush();
    result.checkpoint = cp;
    return result;
  } finally {
    await scripts(log)
      .airlockAuditRelease(log.keys.exportLock, token)
      .catch(() => undefined);
  }
}

function readable(entry: RawEntry): StoredEvent {
  try {
    return eventOf(entry);
  } catch (err) {
    throw new AirlockError('VALIDATION_FAILED', `Audit event at stream id ${entry.id} is unreadable; run \`airlock audit verify\`.`, { cause: err });
  }
}

async function writeGroup(options: ExportOptions, cp: ExportCheckpoint, group: Group, windowMs: number): Promise<ExportCheckpoint> {
  const first = group.events[0]!;
  const last = group.events[group.events.length - 1]!;
  const keys = exportKeys(new Date(group.windowFrom), first.seq, last.seq);
  const gz = gzipSync(Buffer.from(`${group.events.map((e) => JSON.stringify(e)).join('\n')}\n`));
  const seriesStartSeq = cp.seriesStartSeq ?? first.seq;
  const manifest: ExportManifest = {
    kind: 'airlock.audit.export',
    version: 1,
    file: keys.file,
    ...(options.ocsf ? { ocsfFile: keys.ocsf } : {}),
    window: { from: new Date(group.windowFrom).toISOString(), to: new Date(group.windowFrom + windowMs).toISOString() },
    count: group.events.length,
    firstSeq: first.seq,
    lastSeq: last.seq,
    firstId: first.id,
    lastId: last.id,
    prevHash: first.prevHash,
    firstHash: first.hash,
    lastHash: last.hash,
    sha256: createHash('sha256').update(gz).digest('hex'),
    bytes: gz.length,
    seriesStartSeq,
  };
  await guard(async () => {
    await options.store.put(keys.file, gz, 'application/gzip');
    if (options.ocsf) {
      const ocsf = gzipSync(Buffer.from(`${group.events.map((e) => JSON.stringify(toOcsfApiActivity(e))).join('\n')}\n`));
      await options.store.put(keys.ocsf, ocsf, 'application/gzip');
    }
    await options.store.put(keys.manifest, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 'application/json');
  });
  const next = { lastId: last.id, lastSeq: last.seq, lastHash: last.hash, seriesStartSeq };
  await guard(() => advance(options.log, cp, next));
  return next;
}

/** A manifest written just before a crash (checkpoint not moved) is adopted if Redis agrees with it. */
async function adoptCrashedManifests(log: RedisAuditLog, store: ExportStore, cp: ExportCheckpoint, result: ExportResult, progress: Progress): Promise<ExportCheckpoint> {
  for (;;) {
    const keys = await guard(() => store.list(manifestPrefixFor(cp.lastSeq + 1)));
    const key = keys.sort()[0];
    if (!key || !cp.lastId) return cp;
    const manifest = parseManifest((await guard(() => store.get(key))) ?? Buffer.alloc(0), key);
    const [entry] = await log.entriesById([manifest.lastId]);
    if (!entry || entry.fields.hash !== manifest.lastHash || manifest.prevHash !== cp.lastHash || compareIds(manifest.lastId, cp.lastId) <= 0) {
      throw new AirlockError('STATE_CONFLICT', `Export manifest ${key} does not match the log in Redis; run \`airlock audit verify\`.`);
    }
    const next = { lastId: manifest.lastId, lastSeq: manifest.lastSeq, lastHash: manifest.lastHash, seriesStartSeq: cp.seriesStartSeq ?? manifest.seriesStartSeq };
    await guard(() => advance(log, cp, next));
    progress(`adopted ${key}, written by an export that stopped before its checkpoint`);
    result.adopted++;
    result.manifests.push(key);
    cp = next;
  }
}

export interface TrimResult {
  /** Stream entries removed. */
  events: number;
  /** Sessions whose summary and indexes were removed (all their events trimmed). */
  sessions: number;
  anchor?: { seq: number; hash: string; id: string };
}

/**
 * Remove exported events older than `retentionMs` from Redis (never one past
 * the export checkpoint), and the index entries of sessions wholly trimmed.
 */
export async function trimAudit(options: { log: RedisAuditLog; retentionMs: number }): Promise<TrimResult> {
  const { log } = options;
  const cp = await readCheckpoint(log);
  if (!cp.lastId) return { events: 0, sessions: 0 };
  const cutMs = (await log.redisNow()) - options.retentionMs;
  const end = compareIds(cp.lastId, `${cutMs}-0`) < 0 ? cp.lastId : `(${cutMs}-0`;
  const rows = (await guard(() => log.redis.xrevrange(log.keys.stream, end, '-', 'COUNT', 1))) as Array<[string, string[]]>;
  const row = rows[0];
  if (!row) return { events: 0, sessions: 0 };
  const [id, flat] = row;
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  const [ms, seq] = id.split('-');
  const events = await guard(() => scripts(log).airlockAuditTrim(log.keys.stream, log.keys.anchor, fields.seq ?? '0', fields.hash ?? '', `${ms}-${Number(seq) + 1}`));
  let sessions = 0;
  let offset = 0;
  for (;;) {
    const ids = await guard(() => log.redis.zrangebyscore(log.keys.all, '-inf', `(${cutMs}`, 'LIMIT', offset, 500));
    if (ids.length === 0) break;
    const read = log.redis.pipeline();
    for (const s of ids) read.hgetall(log.keys.summary(s));
    const summaries = ((await guard(async () => (await read.exec()) ?? [])) as Array<[Error | null, Record<string, string>]>).map((r) => r[1]);
    const drop = log.redis.pipeline();
    let kept = 0;
    ids.forEach((s, i) => {
      const sum = summaries[i] ?? {};
      if (sum.lastId && compareIds(sum.lastId, id) > 0) {
        kept++;
        return;
      }
      for (const f of Object.keys(sum)) if (f.startsWith('t:')) drop.zrem(log.keys.term(f.slice(2)), s);
      drop.zrem(log.keys.all, s).unlink(log.keys.summary(s), log.keys.session(s));
      sessions++;
    });
    await guard(() => drop.exec());
    offset += kept;
  }
  return { events, sessions, anchor: { seq: Number(fields.seq), hash: fields.hash ?? '', id } };
}
