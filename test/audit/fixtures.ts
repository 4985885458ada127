/** Shared builders for the audit tests: realistic sessions without PII. */
import type { AuditEventInput } from '../../src/audit/events.ts';
import type { Decision } from '../../src/policy/decision.ts';

export function decision(tables: string[], columns: string[], action: Decision['action'] = 'review'): Decision {
  return {
    action,
    risk: action === 'allow' ? 'low' : 'high',
    reasons: [],
    approvals: { required: action === 'review' ? 1 : 0, groups: action === 'review' ? ['data-owners'] : [] },
    statements: [{ kind: 'select', tables, columns, complete: true }],
    fingerprint: 'a'.repeat(64),
    complete: true,
  };
}

export interface SessionSpec {
  id: string;
  agent?: string;
  owner?: string;
  tables?: string[];
  columns?: string[];
  approver?: { slackUserId: string; email: string };
  outcome?: 'succeeded' | 'rejected' | 'expired' | 'failed' | 'denied';
  prompt?: string;
  at?: string;
}

/** The event sequence of one session, ending in the given outcome. */
export function sessionEvents(spec: SessionSpec): AuditEventInput[] {
  const session = spec.id;
  const at = spec.at;
  const t = (x: Omit<AuditEventInput, 'session'>): AuditEventInput => ({ ...x, session, ...(at ? { at } : {}) }) as AuditEventInput;
  const tables = spec.tables ?? ['ANALYTICS.PUBLIC.ORDERS'];
  const outcome = spec.outcome ?? 'succeeded';
  const events: AuditEventInput[] = [
    t({
      type: 'received',
      data: {
        agent: spec.agent ?? 'agent-a',
        owner: spec.owner ?? 'owner@example.com',
        groups: ['analysts'],
        prompt: spec.prompt ?? 'weekly revenue by segment',
        sql: `select * from ${tables[0]}`,
        fingerprint: 'a'.repeat(64),
        clientAddress: '10.0.0.7',
        userAgent: 'claude-code/1.0',
      },
    }),
    t({ type: 'decided', data: { decision: decision(tables, spec.columns ?? [], outcome === 'denied' ? 'deny' : 'review') } }),
  ];
  if (outcome === 'denied') return events;
  events.push(t({ type: 'card_posted', data: { channel: 'C1', ts: '1700000000.000100' } }));
  if (outcome === 'expired') return [...events, t({ type: 'expired', data: {} })];
  const voter = spec.approver ?? { slackUserId: 'U1', email: 'approver@example.com' };
  if (outcome === 'rejected') {
    return [...events, t({ type: 'vote', data: { voter, vote: 'deny', reason: 'no' } }), t({ type: 'rejected', data: { by: voter.email } })];
  }
  events.push(t({ type: 'vote', data: { voter, vote: 'approve' } }), t({ type: 'approved', data: { approvers: [voter.email] } }));
  events.push(t({ type: 'execution_started', data: { worker: 'w1', warehouseQueryId: 'sf-1' } }));
  if (outcome === 'failed') return [...events, t({ type: 'failed', data: { code: 'WAREHOUSE_SQL_ERROR', message: 'bad column' } })];
  return [
    ...events,
    t({
      type: 'execution_finished',
      data: {
        rows: 3,
        durationMs: 12,
        resultSha256: 'b'.repeat(64),
        masking: { columns: [{ name: 'EMAIL', strategy: 'partial' }] },
        preview: { columns: ['ID', 'EMAIL'], rows: [[1, 'j***@***']] },
      },
    }),
    t({ type: 'summary_posted', data: { channel: 'C1', ts: '1700000000.000200' } }),
  ];
}
