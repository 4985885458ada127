/**
 * What agents see of a query (the body of `GET /v1/queries/:id`): the record
 * without approvers' emails, a sentence while a review is pending, and why a
 * stored result is cut.
 */
import type { MaskingReport } from '../masking/report.ts';
import type { Decision } from '../policy/decision.ts';
import type { QueryRecord, ResultPage } from './types.ts';

/** What agents see of a query. */
export interface QueryView {
  id: string;
  status: QueryRecord['status'];
  decision: Decision;
  createdAt: string;
  updatedAt: string;
  execution?: QueryRecord['execution'];
  error?: QueryRecord['error'];
  result?: ResultPage;
  /** For `pending_approval`: what the query is waiting for, in words. */
  waiting?: string;
  /** For reviewed queries: the votes so far (without approvers' emails), quorum and expiry. */
  approval?: ApprovalView;
  /** What masking did to the result (also under execution.masking). */
  masking?: MaskingReport;
}

/** A review as the agent sees it: quorum, expiry and votes by name. */
export interface ApprovalView {
  required: number;
  groups: string[];
  expiresAt: string;
  votes: Array<{ vote: 'approve' | 'deny'; by: string; at: string; reason?: string }>;
}

/** The agent's view of a review: a voter is named by Slack name or id, never by email. */
export function approvalView(a: NonNullable<QueryRecord['approval']>): ApprovalView {
  return {
    required: a.required,
    groups: a.groups,
    expiresAt: a.expiresAt,
    votes: a.votes.map((v) => ({ vote: v.vote, by: v.voter.name ?? v.voter.slackUserId, at: v.at, ...(v.reason ? { reason: v.reason } : {}) })),
  };
}

/** Said to agents while review is pending and the Slack approval flow is not part of this build. */
export function reviewPendingNote(record: Pick<QueryRecord, 'createdAt' | 'decision'>): string {
  const seconds = record.decision.approvals.expiresInSeconds;
  const expiry = seconds === undefined ? '' : ` or it expires at ${new Date(Date.parse(record.createdAt) + seconds * 1000).toISOString()}`;
  return (
    `This query needs human approval (see decision.reasons and approval): ${record.decision.approvals.required} approval(s) in Slack. ` +
    `It waits in pending_approval until approvers decide, you cancel it (POST /v1/queries/:id/cancel)${expiry}. Long-poll GET /v1/queries/:id?waitMs= for the outcome.`
  );
}

/** Why a stored result is cut or holds replaced cells, for its pages. */
export function cutOf(record: QueryRecord): Pick<ResultPage, 'truncatedBy' | 'note'> {
  const e = record.execution;
  return { ...(e?.truncatedBy ? { truncatedBy: e.truncatedBy } : {}), ...(e?.note ? { note: e.note } : {}) };
}
