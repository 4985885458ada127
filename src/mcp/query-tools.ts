/**
 * The tools that run and follow a statement: run_query, wait_for_query,
 * get_query, get_results, cancel_query. Each is one call on the port, so the
 * policy, approvals, masking and the session log apply exactly as on the REST API.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import type { QueryView } from '../queries/view.ts';
import type { AirlockPort } from './port.ts';
import { presentPage, presentRefusal, presentView } from './present.ts';
import { answer, progressOf, queryId } from './tool-kit.ts';
import { isSettled, MAX_WAIT_MS, STEP_MS, waitForOutcome, type ProgressReport } from './wait.ts';

/** How long run_query waits for an allowed statement before saying "call wait_for_query". */
const RUN_WAIT_MS = 45_000;

/** Progress notifications for a wait, in words the user can see in the client. */
function progressFor(report: ReturnType<typeof progressOf>): ProgressReport | undefined {
  if (!report) return undefined;
  return async (view: QueryView, waitedMs, budgetMs) => {
    const seconds = Math.round(waitedMs / 1000);
    const message =
      view.status === 'pending_approval'
        ? `Waiting for approval in Slack (${view.approval?.votes.filter((v) => v.vote === 'approve').length ?? 0} of ${view.approval?.required ?? view.decision.approvals.required}), ${seconds}s`
        : `Query is ${view.status}, ${seconds}s`;
    await report(Math.round(waitedMs), budgetMs, message);
  };
}

const RUN_DESCRIPTION = `Run one Snowflake SQL statement through Airlock, the approval gateway. Use it for every query: you have no direct warehouse access.
What comes back depends on the policy:
- allowed: the rows (sensitive values masked by Airlock) as a table and as structured content; page on with get_results when nextCursor is present;
- needs approval (status pending_approval): the query id, who must approve in Slack and when it expires. Tell the user, then call wait_for_query with the id;
- denied: the reason codes, the table/column at fault and what would pass instead (drop a column, add a LIMIT, ask with a purpose). Nothing ran.
Always pass a purpose for anything beyond a plain read: approvers see it on the Slack card. Writes and DDL can run once approved, so do not send a statement you would not want run. Use check_policy first to see what would happen without running anything.`;

/**
 * The tools' definitions (description, arguments, hints), built once per
 * process: every HTTP request builds a server from them (server.ts).
 */
const RUN_QUERY = {
  title: 'Run a SQL statement through Airlock',
  description: RUN_DESCRIPTION,
  inputSchema: z.object({
    sql: z.string().min(1).describe('One Snowflake SQL statement. Name tables fully (DATABASE.SCHEMA.TABLE) when unsure of the defaults.'),
    purpose: z.string().max(2000).optional().describe('Why this is needed, in one or two sentences for the human approvers (shown on the Slack card).'),
    prompt: z.string().max(20_000).optional().describe("The user's request that led to this statement, for the audit trail."),
    idempotencyKey: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Any unique string for this statement; if the call is retried with the same key, Airlock answers with the query it already made instead of running or asking for approval twice.'),
  }),
  annotations: { title: 'Run SQL (may need approval)', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
};

const WAIT_FOR_QUERY = {
  title: 'Wait for a query to finish or be approved',
  description: `Wait for a query that is pending approval, queued or running, up to about 50 seconds per call, with progress notifications while it waits. Returns the result (rows, masked), the outcome (rejected, expired, failed) or, if it is still pending, the same status with "call again": then call wait_for_query again with the same id (approvals in Slack can take minutes). Tell the user who must approve while you wait.`,
  inputSchema: z.object({
    id: queryId,
    timeoutSeconds: z.number().int().min(1).max(MAX_WAIT_MS / 1000).optional().describe('How long to wait in this call, at most 50 (the default).'),
  }),
  annotations: { title: 'Wait for a query', readOnlyHint: true, openWorldHint: false },
};

const GET_QUERY = {
  title: 'Look up a query',
  description: 'Where one of your queries stands now, without waiting: status, decision, approvals so far, and the first rows when it succeeded. Use wait_for_query to wait instead.',
  inputSchema: z.object({ id: queryId }),
  annotations: { title: 'Look up a query', readOnlyHint: true, openWorldHint: false },
};

const GET_RESULTS = {
  title: 'Page through a result',
  description: 'The next page of rows of a succeeded query (masked as stored). Pass the cursor from the previous answer (nextCursor); omit it for the first page.',
  inputSchema: z.object({
    id: queryId,
    cursor: z.string().min(1).max(500).optional().describe('nextCursor from the previous page.'),
    limit: z.number().int().min(1).max(1000).optional().describe('Rows in this page (default 200, at most 1000).'),
  }),
  annotations: { title: 'Page through a result', readOnlyHint: true, openWorldHint: false },
};

const CANCEL_QUERY = {
  title: 'Withdraw a query',
  description: 'Withdraw one of your queries that is pending approval, queued or running (a running statement is cancelled in the warehouse). A finished query cannot be cancelled.',
  inputSchema: z.object({ id: queryId }),
  annotations: { title: 'Withdraw a query', readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
};

/** run_query, wait_for_query, get_query, get_results, cancel_query. */
export function registerQueryTools(server: McpServer, port: AirlockPort, logger: Logger): void {
  server.registerTool(
    'run_query',
    RUN_QUERY,
    (args, ctx) =>
      answer(logger, 'run_query', async () => {
        const outcome = await port.run({
          sql: args.sql,
          waitMs: STEP_MS,
          ...(args.purpose !== undefined ? { purpose: args.purpose } : {}),
          ...(args.prompt !== undefined ? { prompt: args.prompt } : {}),
          ...(args.idempotencyKey !== undefined ? { idempotencyKey: args.idempotencyKey } : {}),
        });
        if (outcome.refused) return presentRefusal(outcome.refusal);
        let view = outcome.view;
        // Allowed and still running: keep waiting (with progress) rather than hand a fresh query back at once.
        if (!isSettled(view) && view.status !== 'pending_approval') {
          const progress = progressFor(progressOf(ctx));
          view = await waitForOutcome(port, view.id, { budgetMs: RUN_WAIT_MS - STEP_MS, ...(progress ? { progress } : {}), signal: ctx.mcpReq.signal });
        }
        return presentView(view);
      }),
  );

  server.registerTool(
    'wait_for_query',
    WAIT_FOR_QUERY,
    (args, ctx) =>
      answer(logger, 'wait_for_query', async () => {
        const progress = progressFor(progressOf(ctx));
        const view = await waitForOutcome(port, args.id, {
          budgetMs: (args.timeoutSeconds ?? MAX_WAIT_MS / 1000) * 1000,
          ...(progress ? { progress } : {}),
          signal: ctx.mcpReq.signal,
        });
        const presented = presentView(view);
        if (isSettled(view)) return presented;
        return { ...presented, text: `Still ${view.status} after waiting; call wait_for_query again with id "${view.id}".\n${presented.text}`, structured: { ...presented.structured, stillPending: true } };
      }),
  );

  server.registerTool(
    'get_query',
    GET_QUERY,
    (args) => answer(logger, 'get_query', async () => presentView(await port.get(args.id, 0))),
  );

  server.registerTool(
    'get_results',
    GET_RESULTS,
    (args) => answer(logger, 'get_results', async () => presentPage(await port.results(args.id, args.cursor, args.limit ?? 200))),
  );

  server.registerTool(
    'cancel_query',
    CANCEL_QUERY,
    (args) => answer(logger, 'cancel_query', async () => presentView(await port.cancel(args.id))),
  );
}
