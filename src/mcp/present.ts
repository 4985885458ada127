/**
 * What a tool answers, for a model: a readable text (a sentence on what
 * happened, a table of rows, what to do next) and the same facts as
 * structured content. Pure: data in, answer out.
 */
import type { SessionPage } from '../audit/search.ts';
import type { AirlockError } from '../errors.ts';
import type { Decision } from '../policy/decision.ts';
import type { ResultPage } from '../queries/types.ts';
import type { QueryView } from '../queries/view.ts';
import { teach } from './advice.ts';
import type { Refusal } from './port.ts';

/** A tool's answer before it becomes a CallToolResult. */
export interface ToolAnswer {
  text: string;
  structured: Record<string, unknown>;
  /** True when the call did not do what was asked (refused, failed): the model should change course. */
  isError?: boolean;
}

/** Rows shown in the text table; every inline row is in the structured content. */
const TEXT_ROWS = 50;
const CELL_CHARS = 120;

function cell(value: unknown): string {
  const text = value === null || value === undefined ? 'NULL' : typeof value === 'string' ? value : JSON.stringify(value);
  const flat = text.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
  return flat.length > CELL_CHARS ? `${flat.slice(0, CELL_CHARS - 1)}…` : flat;
}

/** A Markdown table of the first rows of a page. */
function table(page: ResultPage): string {
  if (page.columns.length === 0) return '';
  const head = `| ${page.columns.map((c) => cell(c.name)).join(' | ')} |`;
  const rule = `|${page.columns.map(() => '---').join('|')}|`;
  const rows = page.rows.slice(0, TEXT_ROWS).map((r) => `| ${r.map(cell).join(' | ')} |`);
  const more = page.rows.length > TEXT_ROWS ? `\n(${page.rows.length - TEXT_ROWS} more rows of this page are in the structured content.)` : '';
  return [head, rule, ...rows].join('\n') + more;
}

/** The structured form of a page. */
function pageFacts(page: ResultPage) {
  return {
    columns: page.columns.map((c) => ({ name: c.name, type: c.type })),
    rows: page.rows,
    offset: page.offset,
    returned: page.rows.length,
    rowCount: page.rowCount,
    truncated: page.truncated,
    ...(page.truncatedBy ? { truncatedBy: page.truncatedBy } : {}),
    ...(page.note ? { note: page.note } : {}),
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  };
}

/** What the agent should know about the rows it got: masking, paging, truncation. */
function aboutRows(view: QueryView, page: ResultPage): string[] {
  const lines: string[] = [];
  const masked = view.masking?.columns ?? [];
  if (masked.length > 0) {
    lines.push(`Masked by Airlock: ${masked.map((m) => `${m.name} (${m.type}, ${m.strategy})`).join(', ')}. Masked values cannot be unmasked through Airlock.`);
  }
  if (page.nextCursor) lines.push(`More rows: call get_results with id "${view.id}" and cursor "${page.nextCursor}".`);
  if (page.note) lines.push(page.note);
  return lines;
}

/** Approvals so far, in words. */
function approvalLine(view: QueryView): string {
  const a = view.approval;
  const required = a?.required ?? view.decision.approvals.required;
  const groups = (a?.groups ?? view.decision.approvals.groups).join(', ') || 'the approvers';
  const approved = a?.votes.filter((v) => v.vote === 'approve').length ?? 0;
  const expiry = a?.expiresAt ? ` It expires at ${a.expiresAt} if nobody decides.` : '';
  return `Waiting for approval in Slack: ${approved} of ${required} approval(s) from ${groups}.${expiry}`;
}

/** The sentences for a query's status: what happened and what to do next. */
function statusLines(view: QueryView): string[] {
  const id = view.id;
  switch (view.status) {
    case 'succeeded': {
      const rows = view.execution?.rowsAffected !== undefined ? `${view.execution.rowsAffected} row(s) affected` : `${view.result?.rowCount ?? 0} row(s)`;
      return [`Query ${id} succeeded: ${rows}.`];
    }
    case 'pending_approval':
      return [
        `Query ${id} needs human approval before it runs.`,
        approvalLine(view),
        `Tell the user who must approve, then call wait_for_query with id "${id}" (each call waits up to about 50 seconds); or cancel_query to withdraw it.`,
      ];
    case 'approved':
    case 'queued':
    case 'running':
      return [`Query ${id} is ${view.status}. Call wait_for_query with id "${id}" for the result.`];
    case 'rejected': {
      const denial = view.approval?.votes.find((v) => v.vote === 'deny');
      return [`Query ${id} was rejected by an approver${denial ? ` (${denial.by}${denial.reason ? `: "${denial.reason}"` : ''})` : ''}. It did not run. Change the request or its purpose before asking again.`];
    }
    case 'expired':
      return [`Query ${id} expired: nobody approved it in time. It did not run; ask again with a purpose, or ask the user to find an approver.`];
    case 'cancelled':
      return [`Query ${id} was cancelled; it did not run.`];
    case 'outcome_unknown':
      return [`Query ${id} was running a write when a worker stopped: whether it took effect is unknown. It is NOT re-run automatically; check the data before trying again.`];
    case 'failed':
      return [`Query ${id} failed: ${view.error?.code ?? 'ERROR'}: ${view.error?.message ?? 'no message'}`];
    case 'denied':
      return [`Query ${id} was denied by policy; nothing ran.`];
  }
}

/** A query as a tool answer (run_query, wait_for_query, get_query, cancel_query). */
export function presentView(view: QueryView): ToolAnswer {
  const lines = statusLines(view);
  const reasons = teach(view.decision.reasons, view.decision.action);
  if (view.status === 'pending_approval' && reasons.length > 0) {
    lines.push('Why it needs approval:', ...reasons.map(reasonLine));
  }
  const page = view.result;
  if (page) lines.push(...aboutRows(view, page));
  const rows = page ? table(page) : '';
  return {
    text: rows ? `${lines.join('\n')}\n\n${rows}` : lines.join('\n'),
    structured: {
      id: view.id,
      status: view.status,
      decision: { action: view.decision.action, risk: view.decision.risk, reasons },
      ...(view.approval ? { approval: view.approval } : {}),
      ...(view.error ? { error: view.error } : {}),
      ...(view.masking ? { masking: view.masking.columns.map((m) => ({ column: m.name, type: m.type, strategy: m.strategy, cells: m.cells })) } : {}),
      ...(view.execution?.rowsAffected !== undefined ? { rowsAffected: view.execution.rowsAffected } : {}),
      ...(page ? { result: pageFacts(page) } : {}),
    },
    isError: view.status === 'failed' || view.status === 'rejected' || view.status === 'expired' || view.status === 'outcome_unknown',
  };
}

function reasonLine(r: ReturnType<typeof teach>[number]): string {
  const at = [r.table && `table ${r.table}`, r.column && `column ${r.column}`].filter(Boolean).join(', ');
  return `- ${r.code}${at ? ` (${at})` : ''}: ${r.message}${r.instead ? `\n  What would pass: ${r.instead}` : ''}`;
}

/** A policy refusal: nothing ran; the reasons, what is at fault and what would pass. */
export function presentRefusal(refusal: Refusal): ToolAnswer {
  const reasons = teach(refusal.decision.reasons, 'deny');
  return {
    text: [`Denied by policy (${refusal.code}); nothing ran. Query id ${refusal.id} is recorded in the session log.`, ...reasons.map(reasonLine)].join('\n'),
    structured: { id: refusal.id, status: 'denied', code: refusal.code, decision: { action: 'deny', risk: refusal.decision.risk, reasons } },
    isError: true,
  };
}

/** A dry run's decision (check_policy). */
export function presentDecision(decision: Decision): ToolAnswer {
  const reasons = teach(decision.reasons, decision.action);
  const verdict =
    decision.action === 'allow'
      ? 'It would run at once (allow).'
      : decision.action === 'review'
        ? `It would wait for ${decision.approvals.required} approval(s) in Slack from ${decision.approvals.groups.join(', ') || 'the approvers'} (review).`
        : 'It would be refused (deny).';
  return {
    text: [`Dry run, nothing ran: ${verdict} Risk: ${decision.risk}.`, ...reasons.map(reasonLine)].join('\n'),
    structured: {
      action: decision.action,
      risk: decision.risk,
      reasons,
      approvals: decision.approvals,
      complete: decision.complete,
      statements: decision.statements.map((s) => ({ kind: s.kind, tables: s.tables, ...(s.sensitive?.length ? { sensitive: s.sensitive } : {}) })),
      ...(decision.limits ? { limits: decision.limits } : {}),
    },
  };
}

/** A further page of a result (get_results). */
export function presentPage(page: ResultPage & { id: string }): ToolAnswer {
  const lines = [`Rows ${page.offset + 1}–${page.offset + page.rows.length} of ${page.rowCount} of query ${page.id}.`];
  if (page.nextCursor) lines.push(`More rows: call get_results with id "${page.id}" and cursor "${page.nextCursor}".`);
  if (page.note) lines.push(page.note);
  return { text: `${lines.join('\n')}\n\n${table(page)}`, structured: { id: page.id, ...pageFacts(page) } };
}

/** The agent's own queries (my_queries). */
export function presentSessions(page: SessionPage): ToolAnswer {
  const lines = page.sessions.map((s) => `- ${s.id} ${s.status ?? '?'} (${s.action ?? '?'}, ${s.startedAt})${s.tables.length ? ` ${s.tables.join(', ')}` : ''}`);
  const more = page.nextCursor ? `\nMore: call my_queries with cursor "${page.nextCursor}".` : '';
  return {
    text: page.sessions.length === 0 ? 'No queries found.' : `${page.sessions.length} quer${page.sessions.length === 1 ? 'y' : 'ies'}, newest first:\n${lines.join('\n')}${more}`,
    structured: { queries: page.sessions, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) },
  };
}

/** An Airlock error (bad input, not found, a dependency down) as a tool error the model can read. */
export function presentError(err: AirlockError): ToolAnswer {
  return { text: `${err.code}: ${err.message}`, structured: { error: { code: err.code, message: err.message } }, isError: true };
}
