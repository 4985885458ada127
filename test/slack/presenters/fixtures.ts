/** Records, approvals and message walkers shared by the presenter tests. */
import type { Decision } from '../../../src/policy/decision.ts';
import type { QueryRecord } from '../../../src/queries/types.ts';
import type { Block, Message } from '../../../src/slack/presenters/blocks.ts';
import type { approvalCard } from '../../../src/slack/presenters/card.ts';

export type Approval = Parameters<typeof approvalCard>[0]['approval'];

export const NOW = new Date('2025-03-04T10:00:00Z');
export const FP = 'a3f1c09e5b7d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f';

export function decision(over: Partial<Decision> = {}): Decision {
  return {
    action: 'review',
    risk: 'high',
    reasons: [{ code: 'DESTRUCTIVE_DDL', message: 'DROP TABLE ANALYTICS.PUBLIC.CUSTOMERS', statement: 0, rule: 'ddl-needs-two' }],
    approvals: { required: 2, groups: ['data-owners'], expiresInSeconds: 3600 },
    statements: [
      {
        kind: 'drop',
        verb: 'DROP',
        tables: ['ANALYTICS.PUBLIC.CUSTOMERS'],
        writes: ['ANALYTICS.PUBLIC.CUSTOMERS'],
        columns: [],
        sensitive: [{ name: 'ANALYTICS.PUBLIC.CUSTOMERS.EMAIL', type: 'email', via: ['select', 'where'] }],
        complete: true,
      },
    ],
    fingerprint: FP,
    complete: true,
    policy: { name: 'default', version: 'v3' },
    ...over,
  };
}

export function record(over: Partial<QueryRecord> = {}): QueryRecord {
  return {
    id: 'q_01JNB2K8ZQ',
    status: 'pending_approval',
    sql: 'DROP TABLE ANALYTICS.PUBLIC.CUSTOMERS',
    prompt: 'Clean up the old customers table',
    purpose: 'cleanup',
    requester: { id: 'agent:claude-code', name: 'claude-code', owner: 'ana@example.com', groups: ['agents'] },
    decision: decision(),
    createdAt: '2025-03-04T09:30:00.000Z',
    updatedAt: '2025-03-04T09:30:00.000Z',
    readOnly: false,
    ...over,
  };
}

export function approval(over: Partial<Approval> = {}): Approval {
  return { required: 2, groups: ['data-owners'], fingerprint: FP, expiresAt: '2025-03-04T10:30:00.000Z', votes: [], ...over };
}

export const approve = (id: string, at = '2025-03-04T09:40:00.000Z') => ({ voter: { slackUserId: id }, vote: 'approve' as const, at });

/** All mrkdwn/plain text of a message, joined. */
export function allText(m: { blocks: Block[] }): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'text' && typeof x === 'string') out.push(x);
        else walk(x);
      }
    }
  };
  walk(m.blocks);
  return out.join('\n');
}

export const blockIds = (m: { blocks: Block[] }): string[] => m.blocks.map((b) => b.block_id ?? '');
export const buttons = (m: Message) => m.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
export const unescapeMrkdwn = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
export const sqlSections = (m: Message): string[] =>
  m.blocks.flatMap((b) => (b.type === 'section' && b.text?.text.startsWith('```\n') ? [b.text.text.slice(4, -4)] : []));
