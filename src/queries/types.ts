/**
 * The query record: what an agent asked, what was decided, where it stands.
 */
import type { QueryErrorCode } from '../errors.ts';
import type { MaskingReport } from '../masking/report.ts';
import type { Decision } from '../policy/decision.ts';
import type { TruncatedBy } from './result-caps.ts';

/** Statuses of DESIGN §1; the moves between them are in `lifecycle.ts`. */
export const QUERY_STATUSES = [
  'pending_approval',
  'approved',
  'queued',
  'running',
  'succeeded',
  'failed',
  'outcome_unknown',
  'denied',
  'rejected',
  'expired',
  'cancelled',
] as const;

/** Where a query stands. */
export type QueryStatus = (typeof QUERY_STATUSES)[number];

/** Statuses a query ends in (its record then lives as long as its result). */
export const TERMINAL_STATUSES: ReadonlySet<QueryStatus> = new Set([
  'succeeded',
  'failed',
  'outcome_unknown',
  'denied',
  'rejected',
  'expired',
  'cancelled',
]);

/** Who asked, as the token said. */
export interface Requester {
  id: string;
  name: string;
  owner?: string;
  groups: string[];
  /** OAuth scopes of the token (`airlock:review` opens session search to every agent's sessions). */
  scopes?: string[];
}

/** Column of a stored result. */
export interface ResultColumn {
  name: string;
  type: string;
  nullable: boolean;
  precision?: number | null;
  scale?: number | null;
}

/** Summary of a finished execution, kept on the record. */
export interface ExecutionInfo {
  warehouseQueryId?: string;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  rowCount?: number;
  rowsAffected?: number;
  truncated?: boolean;
  /** Which cap cut the result short, when `truncated`: rows, cells or bytes (src/queries/result-caps.ts). */
  truncatedBy?: TruncatedBy;
  /** Cells over AIRLOCK_MAX_CELL_BYTES, replaced by a marker. */
  oversizedCells?: number;
  /** For the agent: why the result is cut or cells were replaced, and what to do. */
  note?: string;
  /** sha256 over the canonical JSON of columns + rows, as stored. */
  resultSha256?: string;
  attempts?: number;
  /** What masking did to the result: per output column, rule or detector, strategy, cells. */
  masking?: MaskingReport;
}

/** Why a query failed, was cancelled, rejected or expired; `code` is listed in docs/api.md. */
export interface QueryError {
  code: QueryErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export interface QueryRecord {
  id: string;
  status: QueryStatus;
  sql: string;
  prompt?: string;
  purpose?: string;
  labels?: Record<string, string>;
  requester: Requester;
  decision: Decision;
  createdAt: string;
  updatedAt: string;
  /** True for statements that may be re-run after a worker dies. */
  readOnly: boolean;
  /**
   * Where unqualified names resolved when the query was decided (the policy's
   * defaults then, as the analyser uses them); a worker does not run it
   * anywhere else. Absent on records written before it existed.
   */
  resolvedIn?: Namespace;
  execution?: ExecutionInfo;
  error?: QueryError;
  /** Votes, quorum, expiry and Slack card of a review; absent for allow and deny decisions. */
  approval?: ApprovalState;
}

/** A current database and schema, as the analyser resolves names (upper-cased unless quoted). */
export interface Namespace {
  database: string;
  schema: string;
}

/** A page of a stored result. */
export interface ResultPage {
  columns: ResultColumn[];
  rows: unknown[][];
  /** Index of the first row of this page. */
  offset: number;
  rowCount: number;
  truncated: boolean;
  /** Which cap cut the result short, when `truncated`. */
  truncatedBy?: TruncatedBy;
  /** Why the result is cut or cells were replaced (as in `execution.note`). */
  note?: string;
  /** Opaque cursor for the next page, absent on the last. */
  nextCursor?: string;
}

// The review part of a record: its shape is here, with the record; approvals/machine.ts decides how it changes.

/** A Slack user who clicked Approve or Deny. `email` comes from `users.info`, for the audit trail and the owner check. */
export interface Voter {
  slackUserId: string;
  name?: string;
  email?: string;
  /** The canonical form of `email` (`canonicalIdentity`, approvals/identity.ts): one person votes once, whatever Slack account they use. */
  identity?: string;
}

/** How a voter voted. */
export type VoteKind = 'approve' | 'deny';

/** One recorded vote. */
export interface Vote {
  voter: Voter;
  vote: VoteKind;
  /** Required for a deny; an optional comment on an approve. */
  reason?: string;
  /** ISO time the vote was recorded. */
  at: string;
}

/** Where a review stands; stored on the query record as `approval`. */
export interface ApprovalState {
  /** Approvals needed (at least 1). */
  required: number;
  /** Approver groups (policy `approvers` keys) whose members may vote. */
  groups: string[];
  /** The decision's statement fingerprint: a vote binds to it. */
  fingerprint: string;
  /** ISO time after which nobody can decide any more. */
  expiresAt: string;
  votes: Vote[];
  /** The Slack card, once posted (any replica can update it from here). */
  card?: { channel: string; ts: string; postedAt: string };
  /** `ts` of the threaded audit summary under the card, once posted. */
  summaryTs?: string;
}
