/**
 * The decision shape shared by the CLI and the API (DESIGN §3). Public contract:
 * fields are only ever added.
 */

import type { RuleReasonCode, Risk } from './codes.ts';

export type { Risk } from './codes.ts';

/** What happens to a request. */
export type Action = 'allow' | 'review' | 'deny';

/** One reason for a decision, with a stable code. */
export interface Reason {
  /** Stable; the built-in codes are listed in codes.ts and docs/api.md. */
  code: RuleReasonCode;
  message: string;
  /** Index of the statement the reason is about. */
  statement: number;
  /** The policy rule that produced it; absent for built-in reasons (incomplete analysis, several statements). */
  rule?: string;
  /** The table (DATABASE.SCHEMA.TABLE) that triggered it, when one did. */
  table?: string;
  /** The column (DATABASE.SCHEMA.TABLE.COLUMN) that triggered it, when one did. */
  column?: string;
}

/** A sensitive column or table a statement touches. */
export interface SensitiveTouch {
  /** DATABASE.SCHEMA.TABLE.COLUMN, or DATABASE.SCHEMA.TABLE for a sensitive table. */
  name: string;
  type: string;
  /** Where: select, where, join, group_by, order_by, having, star, … */
  via: string[];
}

/** What the analysis learned about one statement. */
export interface StatementFacts {
  kind: string;
  /** The leading keyword as written (upper case), or null when there is none. */
  verb?: string | null;
  /** Object type for DDL/USE (`table`, `stage`, `role`…), `location`/`table` for COPY. */
  object?: string | null;
  /** Names a policy's `match.kind` matches: the kind, `kind_object`, `delete_without_where`… */
  tags?: string[];
  categories?: string[];
  flags?: string[];
  /** Every table read or written, DATABASE.SCHEMA.TABLE. */
  tables: string[];
  /** Tables written (a subset of `tables`). */
  writes?: string[];
  /** Objects other than tables a statement names (`DROP DATABASE X` → `X`). */
  objects?: string[];
  /** Columns referenced anywhere, DATABASE.SCHEMA.TABLE.COLUMN. */
  columns: string[];
  sensitive?: SensitiveTouch[];
  complete: boolean;
  /** Why the statement is not fully explained. */
  gaps?: string[];
}

export interface Decision {
  action: Action;
  risk: Risk;
  reasons: Reason[];
  approvals: { required: number; groups: string[]; expiresInSeconds?: number };
  statements: StatementFacts[];
  /** sha256 of the normalized SQL; an approval binds to it. */
  fingerprint: string;
  /** False when some statement could not be fully analysed; never `allow` then. */
  complete: boolean;
  /** Limits that apply when it runs. */
  limits?: { maxRows?: number };
  /** The policy that decided. */
  policy?: { name?: string; version: string };
}

const ORDER: Record<Action, number> = { allow: 0, review: 1, deny: 2 };
const RISK_ORDER: Record<Risk, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** The stricter of two actions. */
export const stricter = (a: Action, b: Action): Action => (ORDER[a] >= ORDER[b] ? a : b);
/** The higher of two risks. */
export const higher = (a: Risk, b: Risk): Risk => (RISK_ORDER[a] >= RISK_ORDER[b] ? a : b);
