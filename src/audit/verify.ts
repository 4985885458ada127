/**
 * Walk the hash chain and name the first event that was edited, removed or
 * reordered — in Redis, in exported files, or across both.
 *
 * Each event must (1) hash to its own `hash`, (2) carry the previous event's
 * hash as `prevHash`, and (3) carry the next `seq`. A gap in `seq` is a
 * removal unless the missing event turns up a little later (then it is a
 * reordering); a broken link with intact hashes means the previous event was
 * edited and re-hashed.
 */
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { GENESIS_HASH, hashEvent, recordOf, type ChainedEvent } from './events.ts';
import type { ExportManifest } from './manifest.ts';
import { MANIFEST_PREFIX, parseManifest } from './manifest.ts';
import { eventOf, type RedisAuditLog } from './redis-log.ts';
import type { ExportStore } from './export-port.ts';

/** What went wrong, in words a reviewer can act on. */
export type VerifyProblemKind = 'edited' | 'removed' | 'reordered' | 'unreadable' | 'file_modified';

export interface VerifyProblem {
  kind: VerifyProblemKind;
  /** The first bad event's seq (for `removed`, the first missing seq). */
  seq: number;
  /** Where: `redis <stream id>` or `<file> line N`. */
  where: string;
  session?: string;
  type?: string;
  /** One human sentence. */
  message: string;
}

/** A point in the chain. */
export interface ChainPoint {
  seq: number;
  hash: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Events checked. */
  checked: number;
  /** Last good point reached. */
  last: ChainPoint;
  problem?: VerifyProblem;
}

/** One event to check, or a line that could not be read. */
export interface VerifyItem {
  where: string;
  event?: ChainedEvent;
  error?: string;
}

/** How far ahead a gap looks for the "missing" seq before calling it a removal. */
const LOOKAHEAD = 1000;

function describe(e: ChainedEvent): string {
  return `event seq ${e.seq} (session ${e.session}, ${e.type})`;
}

/** Reads items one at a time, and can look a few items ahead for a missing seq (reordered vs removed). */
class Lookahead {
  private readonly iterator: AsyncIterator<VerifyItem> | Iterator<VerifyItem>;
  private readonly buffer: VerifyItem[] = [];
  private done = false;

  constructor(source: AsyncIterable<VerifyItem> | Iterable<VerifyItem>) {
    this.iterator = (Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<VerifyItem>)[Symbol.iterator]()) as
      | AsyncIterator<VerifyItem>
      | Iterator<VerifyItem>;
  }

  async next(): Promise<VerifyItem | undefined> {
    if (this.buffer.length > 0) return this.buffer.shift();
    if (this.done) return undefined;
    const r = await this.iterator.next();
    if (r.done) this.done = true;
    return r.done ? undefined : r.value;
  }

  /** Whether `seq` comes within the next {@link LOOKAHEAD} items. */
  async has(seq: number): Promise<boolean> {
    while (this.buffer.length < LOOKAHEAD && !this.done) {
      const r = await this.iterator.next();
      if (r.done) this.done = true;
      else this.buffer.push(r.value);
    }
    return this.buffer.some((i) => i.event?.seq === seq);
  }
}

/**
 * Check items against the chain starting after `start`; stops at the first
 * problem. `end`, when given, is where the chain must finish (the head).
 * `capture` fills in the hashes of the seqs it already has as keys (for linking Redis and exports).
 */
export async function verifyItems(
  source: AsyncIterable<VerifyItem> | Iterable<VerifyItem>,
  options: { start: ChainPoint; end?: ChainPoint; capture?: Map<number, string> },
): Promise<VerifyReport> {
  const items = new Lookahead(source);
  let last = options.start;
  let checked = 0;
  for (let item = await items.next(); item; item = await items.next()) {
    const problem = await linkProblem(item, last, options.start, items);
    if (problem) return { ok: false, checked, last, problem };
    const e = item.event!;
    if (options.capture?.has(e.seq)) options.capture.set(e.seq, e.hash);
    last = { seq: e.seq, hash: e.hash };
    checked++;
  }
  const problem = options.end ? endProblem(last, options.end) : undefined;
  return problem ? { ok: false, checked, last, problem } : { ok: true, checked, last };
}

/** What is wrong with `item` as the link after `last`: unreadable, removed or reordered neighbours, edited contents, a broken chain. */
async function linkProblem(item: VerifyItem, last: ChainPoint, start: ChainPoint, items: Lookahead): Promise<VerifyProblem | undefined> {
  const e = item.event;
  const where = item.where;
  if (!e) {
    return { kind: 'unreadable', seq: last.seq + 1, where, message: `The event after seq ${last.seq} at ${where} cannot be read (${item.error ?? 'not an event'}): it was edited.` };
  }
  const ids = { where, session: e.session, type: e.type };
  const expected = last.seq + 1;
  if (typeof e.seq !== 'number' || e.seq !== expected) {
    if (typeof e.seq === 'number' && e.seq > expected) {
      if (await items.has(expected)) {
        return { kind: 'reordered', seq: e.seq, ...ids, message: `Events were reordered: ${describe(e)} at ${where} comes before seq ${expected}.` };
      }
      const range = e.seq - 1 === expected ? `seq ${expected} was` : `seq ${expected}–${e.seq - 1} were`;
      return { kind: 'removed', seq: expected, ...ids, message: `Event ${range} removed: seq ${last.seq} is followed by seq ${e.seq} at ${where}.` };
    }
    return { kind: 'reordered', seq: Number(e.seq), ...ids, message: `Events were reordered or duplicated: ${describe(e)} at ${where} appears after seq ${last.seq}.` };
  }
  let recomputed: string;
  try {
    recomputed = hashEvent(recordOf(e));
  } catch {
    recomputed = '';
  }
  if (recomputed !== e.hash) {
    return { kind: 'edited', seq: e.seq, ...ids, message: `${capitalize(describe(e))} at ${where} was edited: its contents no longer match its hash.` };
  }
  if (e.prevHash !== last.hash) {
    return {
      kind: 'edited',
      seq: last.seq,
      ...ids,
      message:
        last.seq === start.seq
          ? `${capitalize(describe(e))} at ${where} does not chain to seq ${last.seq}, where this part of the log must start: an earlier event was edited or removed.`
          : `Event seq ${last.seq} was edited and re-hashed: ${describe(e)} at ${where} no longer chains to it.`,
    };
  }
  return undefined;
}

/** Whether the chain stops where the head says it ends. */
function endProblem(last: ChainPoint, end: ChainPoint): VerifyProblem | undefined {
  if (last.seq < end.seq) {
    const range = end.seq === last.seq + 1 ? `seq ${end.seq} was` : `seq ${last.seq + 1}–${end.seq} were`;
    return { kind: 'removed', seq: last.seq + 1, where: 'end of log', message: `Event ${range} removed from the end of the log (the head records seq ${end.seq}).` };
  }
  if (last.seq === end.seq && last.hash !== end.hash) {
    return { kind: 'edited', seq: last.seq, where: 'end of log', message: `Event seq ${last.seq} was replaced: its hash differs from the one the head recorded.` };
  }
  return undefined;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

async function* redisItems(log: RedisAuditLog): AsyncGenerator<VerifyItem> {
  for await (const entry of log.entries()) {
    const where = `redis ${entry.id}`;
    try {
      yield { where, event: eventOf(entry) };
    } catch (err) {
      yield { where, error: err instanceof Error ? err.message : String(err) };
    }
  }
}

/** Verify the chain held in Redis, from the trim anchor to the head. */
export async function verifyRedis(log: RedisAuditLog, capture?: Map<number, string>): Promise<VerifyReport> {
  const [start, end] = [await log.anchor(), await log.head()];
  return verifyItems(redisItems(log), { start, end, ...(capture ? { capture } : {}) });
}

/** Parse one export file's lines (gzip JSONL). */
export function* fileItems(file: string, gz: Buffer): Generator<VerifyItem> {
  const text = gunzipSync(gz).toString('utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const where = `${file} line ${i + 1}`;
    try {
      const event = JSON.parse(lines[i]!) as ChainedEvent;
      if (typeof event !== 'object' || event === null) throw new TypeError('not an object');
      yield { where, event };
    } catch (err) {
      yield { where, error: err instanceof Error ? err.message : String(err) };
    }
  }
}

/** Progress callback: one line of text for stderr. */
export type Progress = (line: string) => void;

/**
 * Verify every exported file, oldest first, as one chain: each file against
 * its manifest (count, first/last hash, sha256) and against its neighbours.
 */
export async function verifyExports(
  store: ExportStore,
  options: { capture?: Map<number, string>; progress?: Progress } = {},
): Promise<VerifyReport & { files: number; manifests: ExportManifest[] }> {
  const keys = (await store.list(MANIFEST_PREFIX)).filter((k) => k.endsWith('.json')).sort();
  const manifests: ExportManifest[] = [];
  for (const key of keys) {
    const body = await store.get(key);
    if (!body) continue;
    manifests.push(parseManifest(body, key));
  }
  manifests.sort((a, b) => a.firstSeq - b.firstSeq);
  const first = manifests[0];
  let last: ChainPoint = first ? { seq: first.seriesStartSeq - 1, hash: first.seriesStartSeq === first.firstSeq ? first.prevHash : '' } : { seq: 0, hash: GENESIS_HASH };
  let checked = 0;
  const result = (extra: Partial<VerifyReport>) => ({ ok: true, checked, last, files: manifests.length, manifests, ...extra });
  for (const m of manifests) {
    if (last.hash === '') {
      return result({
        ok: false,
        problem: { kind: 'removed', seq: m.seriesStartSeq, where: m.file, message: `Exported events seq ${m.seriesStartSeq}–${m.firstSeq - 1} are missing: the oldest export file starts at seq ${m.firstSeq}.` },
      });
    }
    const gz = await store.get(m.file);
    if (!gz) {
      return result({ ok: false, problem: { kind: 'removed', seq: m.firstSeq, where: m.file, message: `Export file ${m.file} (seq ${m.firstSeq}–${m.lastSeq}) is missing.` } });
    }
    let items: VerifyItem[];
    try {
      items = [...fileItems(m.file, gz)];
    } catch {
      return result({ ok: false, problem: { kind: 'unreadable', seq: m.firstSeq, where: m.file, message: `Export file ${m.file} is not valid gzip: it was modified.` } });
    }
    const report = await verifyItems(items, { start: last, end: { seq: m.lastSeq, hash: m.lastHash }, ...(options.capture ? { capture: options.capture } : {}) });
    checked += report.checked;
    if (!report.ok) return result({ ok: false, last: report.last, ...(report.problem ? { problem: report.problem } : {}) });
    if (report.checked !== m.count) {
      return result({ ok: false, problem: { kind: 'reordered', seq: m.lastSeq, where: m.file, message: `Export file ${m.file} holds ${report.checked} events where its manifest says ${m.count}.` } });
    }
    if (createHash('sha256').update(gz).digest('hex') !== m.sha256) {
      return result({ ok: false, problem: { kind: 'file_modified', seq: m.firstSeq, where: m.file, message: `Export file ${m.file} was modified after export: its sha256 differs from the manifest.` } });
    }
    last = report.last;
    options.progress?.(`verified ${m.file} (seq ${m.firstSeq}–${m.lastSeq})`);
  }
  return result({});
}

/**
 * Verify exports, then Redis, and that they agree where they meet: the trim
 * anchor must be an exported event, and the newest exported event must be the
 * same in Redis while Redis still holds it.
 */
export async function verifyAll(
  log: RedisAuditLog,
  store: ExportStore | undefined,
  progress?: Progress,
): Promise<{ ok: boolean; exports?: VerifyReport; redis: VerifyReport; problem?: VerifyProblem }> {
  const anchor = await log.anchor();
  let exports: (VerifyReport & { files: number }) | undefined;
  const exported = new Map<number, string>([[anchor.seq, '']]);
  if (store) {
    progress?.('verifying exported files…');
    exports = await verifyExports(store, { capture: exported, ...(progress ? { progress } : {}) });
    if (!exports.ok) return { ok: false, exports, redis: { ok: true, checked: 0, last: anchor }, ...(exports.problem ? { problem: exports.problem } : {}) };
  }
  progress?.('verifying the chain in Redis…');
  const inRedis = new Map<number, string>(exports ? [[exports.last.seq, '']] : []);
  const redis = await verifyRedis(log, inRedis);
  const out = { ...(exports ? { exports } : {}), redis };
  if (!redis.ok) return { ok: false, ...out, ...(redis.problem ? { problem: redis.problem } : {}) };
  if (store && exports && anchor.seq > 0) {
    const seen = exported.get(anchor.seq) || undefined;
    if (seen !== anchor.hash) {
      const problem: VerifyProblem = {
        kind: seen === undefined ? 'removed' : 'edited',
        seq: anchor.seq,
        where: 'redis anchor',
        message:
          seen === undefined
            ? `Events up to seq ${anchor.seq} were trimmed from Redis but are not in the exports.`
            : `Event seq ${anchor.seq} differs between the exports and Redis's trim anchor.`,
      };
      return { ok: false, ...out, problem };
    }
  }
  if (exports && exports.last.seq > anchor.seq && exports.last.seq <= redis.last.seq) {
    const inLog = inRedis.get(exports.last.seq);
    if (inLog !== exports.last.hash) {
      const problem: VerifyProblem = {
        kind: 'edited',
        seq: exports.last.seq,
        where: 'exports vs redis',
        message: `Event seq ${exports.last.seq} differs between the exported file and Redis.`,
      };
      return { ok: false, ...out, problem };
    }
  }
  return { ok: true, ...out };
}
