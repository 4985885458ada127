/**
 * What the MCP tools need from Airlock, as one small port bound to one agent.
 *
 * Two adapters implement it: `services-port.ts` calls the services in process
 * (the HTTP transport on the api role), `rest-port.ts` calls a remote
 * Airlock's REST API (`airlock mcp --url …` over stdio, which holds no
 * warehouse or Slack secret). Either way every statement goes through the
 * same intake: policy, approvals, masking and the session log.
 */
import type { AirlockErrorCode } from '../errors.ts';
import type { SessionPage } from '../audit/search.ts';
import type { Decision } from '../policy/decision.ts';
import type { ResultPage } from '../queries/types.ts';
import type { QueryView } from '../queries/view.ts';

/** What an agent asks to run. */
export interface RunRequest {
  sql: string;
  /** Why the agent needs it; shown to approvers on the Slack card and kept in the session log. */
  purpose?: string;
  /** The user's request that led to the statement, for the session log. */
  prompt?: string;
  /** The same key again answers with the query it first made, instead of submitting a second one (a retried call). */
  idempotencyKey?: string;
  /** How long the intake may wait for an outcome before answering (milliseconds). */
  waitMs: number;
}

/** The policy refused the statement: nothing ran. `code` is POLICY_DENIED, or what made it unanalysable (SQL_TOO_COMPLEX, NOT_SQL). */
export interface Refusal {
  id: string;
  code: AirlockErrorCode;
  message: string;
  decision: Decision;
}

/** A submitted statement: its view (ran, runs, or waits for approval), or the refusal. */
export type RunOutcome = { refused: false; view: QueryView } | { refused: true; refusal: Refusal };

/** Filters of the agent's own query list. */
export interface MineFilter {
  /** A session status (`pending_approval`, `succeeded`, …; the list of GET /v1/sessions). */
  status?: string;
  /** A table or column, any suffix (`CUSTOMERS`, `CUSTOMERS.SSN`). */
  table?: string;
  cursor?: string;
  limit: number;
}

/**
 * Airlock as one agent sees it. Every method acts as that agent: another
 * agent's query is NOT_FOUND. Failures are AirlockErrors with stable codes.
 */
export interface AirlockPort {
  run(request: RunRequest): Promise<RunOutcome>;
  /** Read a query; long-poll up to `waitMs` for a terminal status. */
  get(id: string, waitMs: number): Promise<QueryView>;
  results(id: string, cursor: string | undefined, limit: number): Promise<ResultPage & { id: string }>;
  cancel(id: string): Promise<QueryView>;
  /** Dry run: the decision, nothing runs and nothing is recorded. */
  evaluate(sql: string): Promise<Decision>;
  /** The agent's own sessions, newest first. */
  mine(filter: MineFilter): Promise<SessionPage>;
}
