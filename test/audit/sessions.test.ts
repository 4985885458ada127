/**
 * Who counts as a reviewer (pure: isReviewer reads only the requester). The
 * search behind SessionAccess is not used here, so none is built; the API's
 * end-to-end suite (test/e2e/audit-sessions.test.ts) covers the real thing.
 */
import { describe, expect, it } from 'vitest';
import type { AuditSearch } from '../../src/audit/search.ts';
import { SessionAccess } from '../../src/audit/sessions.ts';
import { loadConfig } from '../../src/config/env.ts';
import type { Requester } from '../../src/queries/types.ts';

const unusedSearch = {} as AuditSearch;
const who = (scopes: string[], groups: string[] = []): Requester => ({ id: 'a', name: 'a', groups, scopes });

describe('SessionAccess.isReviewer', () => {
  it('the default scope airlock:review, or a reviewer group', () => {
    const access = new SessionAccess(unusedSearch, { reviewerGroups: ['sec'] });
    expect(access.isReviewer(who(['airlock:review']))).toBe(true);
    expect(access.isReviewer(who(['airlock:query'], ['sec']))).toBe(true);
    expect(access.isReviewer(who(['airlock:query'], ['analysts']))).toBe(false);
    expect(access.isReviewer({ id: 'a', groups: [] })).toBe(false);
  });

  it('a custom scope replaces the default; off leaves only groups', () => {
    const custom = new SessionAccess(unusedSearch, { reviewerGroups: [], reviewerScope: 'audit.read' });
    expect(custom.isReviewer(who(['audit.read']))).toBe(true);
    expect(custom.isReviewer(who(['airlock:review']))).toBe(false);
    const off = new SessionAccess(unusedSearch, { reviewerGroups: ['sec'], reviewerScope: 'off' });
    expect(off.isReviewer(who(['airlock:review', 'off']))).toBe(false);
    expect(off.isReviewer(who([], ['sec']))).toBe(true);
  });

  it('AIRLOCK_REVIEWER_SCOPE and AIRLOCK_REVIEWER_GROUPS are read and checked at start', () => {
    const config = loadConfig({ AIRLOCK_REVIEWER_SCOPE: 'audit.read', AIRLOCK_REVIEWER_GROUPS: ' sec, ,auditors ,sec' });
    expect(config.AIRLOCK_REVIEWER_SCOPE).toBe('audit.read');
    expect(config.AIRLOCK_REVIEWER_GROUPS).toEqual(['sec', 'auditors']);
    expect(loadConfig({}).AIRLOCK_REVIEWER_SCOPE).toBe('airlock:review');
    expect(() => loadConfig({ AIRLOCK_REVIEWER_SCOPE: 'two scopes' })).toThrow(/AIRLOCK_REVIEWER_SCOPE/);
  });
});
