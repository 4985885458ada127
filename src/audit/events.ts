/**
 * The session log's event model (pure: no I/O).
 *
 * A session is one query: its id is the query id. Every step of the query's
 * life is one event; events of all sessions form one global hash chain, so a
 * single `audit verify` proves that nothing was edited, removed or reordered.
 *
 * `hash = sha256(prevHash + canonical(event without hash))`, where the canonical
 * form is JSON with sorted keys and no whitespace, so any implementation (a SIEM,
 * a reviewer's script) can recompute it from an exported line.
 */
import { createHash } from 'node:crypto';
import type { Decision } from '../policy/decision.ts';

/** The previous hash of the very first event. */
export const GENESIS_HASH = '0'.repeat(64);

/** Version of the event shape; bumped only if hashing rules ever change. */
export const EVENT_VERSION = 1;

/** Every kind of step a session records. */
export const AUDIT_EVENT_TYPES = [
  'received',
  'decided',
  'card_posted',
  'vote',
  'vote_refused',
  'approved',
  'rejected',
  'expired',
  'cancelled',
  'execution_started',
  'execution_finished',
  'failed',
  'summary_posted',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Any JSON value (what an event may carry). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue | undefined };

/** A Slack user as recorded in votes (email from `users.info`). */
export interface AuditVoter {
  slackUserId: string;
  name?: string;
  email?: string;
}

/** What the masking engine did to a result; never raw values. */
export interface AuditMaskingReport {
  /** Output columns that were masked, with the strategy used (`redact`, `partial`, `hash`, …). */
  columns: Array<{ name: string; strategy: string; source?: string; reason?: string }>;
  /** Counts of values changed by value detectors (`email`, `ssn`, …). */
  detectors?: Record<string, number>;
}

/** The data each event type carries. */
export interface AuditEventData {
  received: {
    /** The agent's id (token subject). */
    agent: string;
    agentName?: string;
    /** The human who owns the agent (email), when the token says. */
    owner?: string;
    groups: string[];
    prompt?: string;
    purpose?: string;
    /** The SQL as sent, with literals that look like personal data or secrets masked (see redact.ts). */
    sql: string;
    /** sha256 of the SQL exactly as sent. */
    sqlSha256?: string;
    fingerprint: string;
    clientAddress?: string;
    userAgent?: string;
    labels?: Record<string, string>;
  };
  decided: { decision: Decision };
  card_posted: { channel: string; ts: string };
  vote: { voter: AuditVoter; vote: 'approve' | 'deny'; reason?: string };
  /** A click that was not counted: the owner's, an unverifiable voter's, one from outside the card, an ineligible user's. */
  vote_refused: { voter: AuditVoter; vote: 'approve' | 'deny'; outcome: string; detail?: string };
  approved: { approvers: string[] };
  rejected: { by?: string; reason?: string };
  expired: { expiresAt?: string };
  cancelled: { by?: string; reason?: string };
  execution_started: { worker: string; attempt?: number; warehouseQueryId?: string };
  execution_finished: {
    rows: number;
    rowsAffected?: number;
    durationMs: number;
    /** sha256 of the masked result as stored. */
    resultSha256: string;
    truncated?: boolean;
    /** Which cap cut the result: rows, cells or bytes. */
    truncatedBy?: 'rows' | 'cells' | 'bytes';
    /** Cells over AIRLOCK_MAX_CELL_BYTES, replaced by a marker. */
    oversizedCells?: number;
    warehouseQueryId?: string;
    masking: AuditMaskingReport;
    /** The first few rows, already masked. */
    preview?: { columns: string[]; rows: JsonValue[][] };
  };
  failed: { code: string; message: string; outcomeUnknown?: boolean; warehouseQueryId?: string };
  summary_posted: { channel: string; ts: string };
}

/** What a caller appends: the log adds seq, time, prevHash and hash. */
export type AuditEventInput = {
  [T in AuditEventType]: {
    type: T;
    /** The session (query) id. */
    session: string;
    data: AuditEventData[T];
    /** Who caused it (agent id, Slack user, worker, `system`), when not obvious from data. */
    actor?: string;
    /** ISO time; defaults to the log's clock. */
    at?: string;
  };
}[AuditEventType];

/** The hashed part of an event. */
export type AuditRecord = AuditEventInput & {
  v: number;
  /** Position in the global chain, from 1, without gaps. */
  seq: number;
  at: string;
  prevHash: string;
};

/** An event with its own hash: one line of an export file. */
export type ChainedEvent = AuditRecord & { hash: string };

/** An event as read back from Redis: `id` is the stream entry id (not hashed). */
export type StoredEvent = ChainedEvent & { id: string };

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, `undefined`
 * members dropped. Throws on values JSON cannot represent (NaN, bigint, functions)
 * rather than hashing something a verifier could not reproduce.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      const withJson = value as { toJSON?: () => unknown };
      if (typeof withJson.toJSON === 'function') return canonicalJson(withJson.toJSON());
      if (Array.isArray(value)) {
        // One string built in place: this runs for every event appended (the received/decided pair of every query).
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += `${i === 0 ? '' : ','}${v === undefined ? 'null' : canonicalJson(v)}`;
        }
        return `${out}]`;
      }
      return canonicalMembers(value as Record<string, unknown>, NO_KEYS);
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}

const NO_KEYS: ReadonlySet<string> = new Set();

/** `{…}` of `obj`'s members, keys sorted by code unit, `undefined` members and the keys in `skip` left out. */
function canonicalMembers(obj: Record<string, unknown>, skip: ReadonlySet<string>): string {
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || skip.has(k)) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/** The fields of a stored event that are not hashed. */
const UNHASHED: ReadonlySet<string> = new Set(['hash', 'id']);

/** The hashed fields of an event, whatever else it carries (`hash`, `id`). */
export function recordOf(event: AuditRecord | ChainedEvent | StoredEvent): AuditRecord {
  const { hash: _hash, id: _id, ...record } = event as StoredEvent;
  return record as AuditRecord;
}

/** `sha256(prevHash + canonical(event without hash))`, hex. */
export function hashEvent(record: AuditRecord): string {
  // canonicalJson(recordOf(record)), without copying the event to drop `hash` and `id`.
  const canonical = typeof (record as { toJSON?: unknown }).toJSON === 'function' ? canonicalJson(recordOf(record)) : canonicalMembers(record as Record<string, unknown>, UNHASHED);
  return createHash('sha256').update(record.prevHash).update(canonical).digest('hex');
}

/** Chain an input: fill in version, seq, time and prevHash, then hash. */
export function chainEvent(input: AuditEventInput, seq: number, prevHash: string, at: string): ChainedEvent {
  const record = { ...input, v: EVENT_VERSION, seq, at: input.at ?? at, prevHash } as AuditRecord;
  return { ...record, hash: hashEvent(record) };
}

/** A session's status after an event (DESIGN §1 names), or undefined when the event does not change it. */
export function statusAfter(event: AuditEventInput): string | undefined {
  switch (event.type) {
    case 'received':
      return 'received';
    case 'decided':
      return event.data.decision.action === 'deny' ? 'denied' : event.data.decision.action === 'review' ? 'pending_approval' : 'approved';
    case 'approved':
    case 'rejected':
    case 'expired':
    case 'cancelled':
      return event.type;
    case 'execution_started':
      return 'running';
    case 'execution_finished':
      return 'succeeded';
    case 'failed':
      return event.data.outcomeUnknown ? 'outcome_unknown' : 'failed';
    default:
      return undefined;
  }
}

/** Upper-case dotted name suffixes: `A.B.C` → `A.B.C`, `B.C`, `C` (down to `min` parts). */
export function nameSuffixes(name: string, min = 1): string[] {
  const upper = name.toUpperCase();
  const out: string[] = [];
  if (upper === '' || upper.startsWith('.') || upper.endsWith('.') || upper.includes('..')) {
    // Empty parts are dropped: the slow way.
    const parts = upper.split('.').filter(Boolean);
    for (let i = 0; i + min <= parts.length; i++) out.push(parts.slice(i).join('.'));
    return out;
  }
  // Every part is non-empty: the suffixes are what follows each dot.
  const starts = [0];
  for (let i = upper.indexOf('.'); i >= 0; i = upper.indexOf('.', i + 1)) starts.push(i + 1);
  for (let i = 0; i + min <= starts.length; i++) out.push(upper.slice(starts[i]));
  return out;
}

/** Lower-case words of free text for the `q` search (letters/digits, 2–40 chars). */
export function words(text: string, max = 200): string[] {
  const out = new Set<string>();
  for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}_]{2,40}/gu)) {
    out.add(m[0]);
    if (out.size >= max) break;
  }
  return [...out];
}

/** Emails compare case-insensitively; Slack user ids (`U0123`) are kept as they are. */
export function normalizeApprover(who: string): string {
  return who.includes('@') ? who.toLowerCase() : who;
}

/** Search terms an event adds to its session; keys are `kind:value`. */
export interface IndexTerms {
  /** Index names such as `agent:bot-1`, `obj:CUSTOMERS.SSN`, `word:revenue`. */
  terms: string[];
  /** Summary fields to set on the session (agent, owner, fingerprint…). */
  fields: Record<string, string>;
  status?: string;
}

/**
 * What to index for an event. Tables are indexed under every suffix
 * (`ANALYTICS.PUBLIC.CUSTOMERS`, `PUBLIC.CUSTOMERS`, `CUSTOMERS`) and columns
 * under every suffix of two parts or more (`CUSTOMERS.SSN`), all as `obj:`, so
 * `table=CUSTOMERS.SSN` finds sessions that touched that column.
 */
export function indexTerms(event: AuditEventInput): IndexTerms {
  const terms = new Set<string>();
  const fields: Record<string, string> = {};
  switch (event.type) {
    case 'received': {
      const d = event.data;
      terms.add(`agent:${d.agent}`);
      fields.agent = d.agent;
      if (d.owner) {
        terms.add(`owner:${d.owner.toLowerCase()}`);
        fields.owner = d.owner.toLowerCase();
      }
      fields.fingerprint = d.fingerprint;
      for (const w of words([d.prompt ?? '', d.purpose ?? '', d.sql, d.agentName ?? ''].join(' '))) terms.add(`word:${w}`);
      break;
    }
    case 'decided': {
      const objects = new Set<string>();
      for (const s of event.data.decision.statements) {
        for (const t of s.tables) for (const n of nameSuffixes(t)) objects.add(n);
        for (const c of s.columns) for (const n of nameSuffixes(c, 2)) objects.add(n);
        for (const t of s.sensitive ?? []) for (const n of nameSuffixes(t.name, 2)) objects.add(n);
      }
      for (const o of objects) terms.add(`obj:${o}`);
      fields.action = event.data.decision.action;
      fields.risk = event.data.decision.risk;
      fields.tables = JSON.stringify([...new Set(event.data.decision.statements.flatMap((s) => s.tables.map((t) => t.toUpperCase())))].sort());
      break;
    }
    case 'vote': {
      const v = event.data.voter;
      terms.add(`approver:${normalizeApprover(v.slackUserId)}`);
      if (v.email) terms.add(`approver:${normalizeApprover(v.email)}`);
      fields[`voter:${v.email?.toLowerCase() ?? v.slackUserId}`] = event.data.vote;
      break;
    }
    case 'approved':
      for (const a of event.data.approvers) terms.add(`approver:${normalizeApprover(a)}`);
      break;
    default:
      break;
  }
  const status = statusAfter(event);
  return { terms: [...terms], fields, ...(status ? { status } : {}) };
}
