/**
 * The decision shape shared by the CLI and the API (DESIGN §3). Public contract.
 */

/** What happens to a request. */
export type Action = 'allow' | 'review' | 'deny';

export type Risk = 'low' | 'medium' | 'high' | 'critical';

/** One reason for a decision, with a stable code. */
export interface Reason {
  code: string;
  message: string;
  /** Index of the statement the reason is about. */
  statement: number;
}

/** What the analysis learned about one statement. */
export interface StatementFacts {
  kind: string;
  /** The leading keyword as written (upper case), or null when there is none. */
  verb?: string | null;
  tables: string[];
  columns: string[];
  complete: boolean;
}

export interface Decision {
  action: Action;
  risk: Risk;
  reasons: Reason[];
  approvals: { required: number; groups: string[] };
  statements: StatementFacts[];
  /** sha256 of the normalized SQL; an approval binds to it. */
  fingerprint: string;
  /** False when some statement could not be fully analysed; never `allow` then. */
  complete: boolean;
}
