/**
 * The pure parts of the MCP server: the 401 challenge and metadata, what a
 * denial teaches, and how a pending query reads. Exact outputs, no I/O.
 */
import { describe, expect, it } from 'vitest';
import { teach } from '../../src/mcp/advice.ts';
import { bearerChallenge, protectedResourceMetadata } from '../../src/mcp/metadata.ts';
import { presentDecision, presentRefusal, presentView } from '../../src/mcp/present.ts';
import type { Decision } from '../../src/policy/decision.ts';
import type { QueryView } from '../../src/queries/view.ts';

const BASE = 'https://airlock.example.com';

function decision(partial: Partial<Decision>): Decision {
  return { action: 'deny', risk: 'medium', reasons: [], approvals: { required: 0, groups: [] }, statements: [], fingerprint: 'f', complete: true, ...partial };
}

describe('the 401 challenge', () => {
  it('names the metadata and, for a refused token, invalid_token with a quoted description', () => {
    expect(bearerChallenge(BASE)).toBe('Bearer resource_metadata="https://airlock.example.com/.well-known/oauth-protected-resource/mcp"');
    expect(bearerChallenge(BASE, { code: 'AUTH_MISSING', message: 'Send a token.' })).not.toContain('error=');
    expect(bearerChallenge(BASE, { code: 'AUTH_EXPIRED', message: 'The token "x" expired\\now.\n' })).toBe(
      'Bearer resource_metadata="https://airlock.example.com/.well-known/oauth-protected-resource/mcp", error="invalid_token", error_description="The token \\"x\\" expired\\\\now. "',
    );
  });

  it('publishes the /mcp resource and its issuer; none when no issuer is configured', () => {
    expect(protectedResourceMetadata(BASE, 'https://idp.example.com', ['airlock:query'])).toMatchObject({
      resource: 'https://airlock.example.com/mcp',
      authorization_servers: ['https://idp.example.com'],
    });
    expect(protectedResourceMetadata(BASE, undefined, []).authorization_servers).toEqual([]);
  });
});

describe('denials teach', () => {
  const ssn = { code: 'SENSITIVE_COLUMN', message: 'SELECT references SSN.', statement: 0, table: 'ANALYTICS.PUBLIC.CUSTOMERS', column: 'ANALYTICS.PUBLIC.CUSTOMERS.SSN' };

  it('says what would pass for each kind of reason, and nothing for a plain read that was allowed', () => {
    expect(teach([ssn], 'review')[0]!.instead).toMatch(/^Leave out SSN /);
    expect(teach([{ code: 'UNBOUNDED_READ', message: 'no limit', statement: 0 }], 'review')[0]!.instead).toBe('Add a LIMIT (or a selective WHERE).');
    expect(teach([{ code: 'MY_RULE', message: 'custom', statement: 0 }], 'review')[0]!.instead).toMatch(/purpose/);
    expect(teach([{ code: 'MY_RULE', message: 'custom', statement: 0 }], 'deny')[0]!.instead).toBeUndefined();
    expect(teach([{ code: 'READ_ONLY', message: 'read', statement: 0 }], 'allow')[0]!.instead).toBeUndefined();
    expect(teach([{ code: 'READ_ONLY', message: 'read', statement: 0 }, ssn], 'review').map((r) => r.code)).toEqual(['SENSITIVE_COLUMN']);
  });

  it('a refusal names the code, the table and column at fault, and is an error result', () => {
    const answer = presentRefusal({ id: 'q1', code: 'POLICY_DENIED', message: 'no', decision: decision({ reasons: [ssn] }) });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain('- SENSITIVE_COLUMN (table ANALYTICS.PUBLIC.CUSTOMERS, column ANALYTICS.PUBLIC.CUSTOMERS.SSN): SELECT references SSN.');
    expect(answer.structured).toMatchObject({ id: 'q1', status: 'denied', code: 'POLICY_DENIED' });
  });

  it('a dry run says what would happen', () => {
    const review = presentDecision(decision({ action: 'review', approvals: { required: 2, groups: ['data-owners'] }, reasons: [ssn] }));
    expect(review.text).toMatch(/^Dry run, nothing ran: It would wait for 2 approval\(s\) in Slack from data-owners \(review\)\./);
    expect(review.isError).toBeUndefined();
  });
});

describe('a pending query', () => {
  it('says who must approve, when it expires, and to call wait_for_query', () => {
    const view: QueryView = {
      id: 'q2',
      status: 'pending_approval',
      decision: decision({ action: 'review', approvals: { required: 2, groups: ['data-owners'] }, reasons: [{ code: 'DESTRUCTIVE_DDL', message: 'DROP TABLE X', statement: 0, table: 'A.B.X' }] }),
      approval: { required: 2, groups: ['data-owners'], expiresAt: '2026-12-06T12:00:00.000Z', votes: [{ vote: 'approve', by: 'alice', at: '2026-12-06T11:00:00.000Z' }] },
      createdAt: '2026-12-06T11:00:00.000Z',
      updatedAt: '2026-12-06T11:00:00.000Z',
    };
    const answer = presentView(view);
    expect(answer.text).toContain('Waiting for approval in Slack: 1 of 2 approval(s) from data-owners. It expires at 2026-12-06T12:00:00.000Z if nobody decides.');
    expect(answer.text).toContain('call wait_for_query with id "q2"');
    expect(answer.text).toContain('- DESTRUCTIVE_DDL (table A.B.X): DROP TABLE X');
    expect(answer.isError).toBe(false);
  });
});
