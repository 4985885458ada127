/** Shared fixtures for the approval tests: a review record, an approvers config, voters. */
import { randomUUID } from 'node:crypto';
import type { Voter } from '../../src/approvals/machine.ts';
import type { PolicyFile } from '../../src/policy/schema.ts';
import type { QueryRecord } from '../../src/queries/types.ts';

export const FINGERPRINT = 'a'.repeat(64);

/** Fifty listed approvers (U001…U050), a user group, an owner who is also listed, and a group with no members. */
export const APPROVERS: PolicyFile['approvers'] = {
  'data-owners': {
    slack_users: Array.from({ length: 50 }, (_, i) => userId(i + 1)),
    slack_usergroups: ['SDATA'],
  },
  nobody: { slack_users: [], slack_usergroups: [] },
};

export function userId(n: number): string {
  return `U${String(n).padStart(3, '0')}`;
}

export function voter(n: number, extra: Partial<Voter> = {}): Voter {
  return { slackUserId: userId(n), name: `user${n}`, email: `user${n}@example.com`, ...extra };
}

/** The owner (user 1) is listed as an approver: separation of duties must still refuse them. */
export const OWNER = voter(1);

export function reviewRecord(
  approvals: { required?: number; groups?: string[]; expiresInSeconds?: number } = {},
  overrides: Partial<QueryRecord> = {},
): QueryRecord {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    status: 'pending_approval',
    sql: 'drop table analytics.public.customers',
    requester: { id: 'agent-a', name: 'agent-a', owner: OWNER.email!, groups: [] },
    decision: {
      action: 'review',
      risk: 'critical',
      reasons: [{ code: 'DESTRUCTIVE_DDL', message: 'DROP TABLE ANALYTICS.PUBLIC.CUSTOMERS', statement: 0 }],
      approvals: {
        required: approvals.required ?? 2,
        groups: approvals.groups ?? ['data-owners'],
        expiresInSeconds: approvals.expiresInSeconds ?? 3600,
      },
      statements: [{ kind: 'drop', tables: ['ANALYTICS.PUBLIC.CUSTOMERS'], columns: [], complete: true }],
      fingerprint: FINGERPRINT,
      complete: true,
    },
    createdAt: now,
    updatedAt: now,
    readOnly: false,
    ...overrides,
  };
}
