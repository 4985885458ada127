/**
 * The lifecycle table (src/queries/lifecycle.ts): which status may follow
 * which, checked as a table, and docs/api.md kept equal to it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AirlockError } from '../../src/errors.ts';
import { assertInitial, assertTransitions, canTransition, INITIAL_STATUSES, TRANSITIONS } from '../../src/queries/lifecycle.ts';
import { QUERY_STATUSES, TERMINAL_STATUSES, type QueryStatus } from '../../src/queries/types.ts';

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AirlockError ? err.code : 'not an AirlockError';
  }
  return undefined;
}

describe('the transition table', () => {
  const cases: Array<[QueryStatus, QueryStatus, boolean]> = [
    // DESIGN §1's path
    ['pending_approval', 'approved', true],
    ['approved', 'queued', true],
    ['queued', 'running', true],
    ['running', 'succeeded', true],
    ['running', 'failed', true],
    ['running', 'outcome_unknown', true],
    // the ends of a review
    ['pending_approval', 'rejected', true],
    ['pending_approval', 'expired', true],
    ['pending_approval', 'cancelled', true],
    ['approved', 'cancelled', true],
    ['queued', 'cancelled', true],
    ['running', 'cancelled', true],
    // a read retried after a transient error
    ['running', 'queued', true],
    // never: skipping review, running twice, leaving an end, re-opening a review
    ['pending_approval', 'queued', false],
    ['pending_approval', 'running', false],
    ['approved', 'running', false],
    ['queued', 'succeeded', false],
    ['succeeded', 'running', false],
    ['outcome_unknown', 'queued', false],
    ['outcome_unknown', 'running', false],
    ['rejected', 'approved', false],
    ['expired', 'approved', false],
    ['cancelled', 'queued', false],
    ['failed', 'queued', false],
    ['queued', 'pending_approval', false],
    ['denied', 'queued', false],
  ];

  it.each(cases)('%s → %s: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
    expect(codeOf(() => assertTransitions([from], to))).toBe(allowed ? undefined : 'INTERNAL');
  });

  it('lets no terminal status move, except a denial the session log refused', () => {
    const out = TRANSITIONS.filter((t) => TERMINAL_STATUSES.has(t.from)).map((t) => `${t.from} → ${t.to}`);
    expect(out).toEqual(['denied → failed']);
  });

  it('never goes back to pending_approval, and every live status can end', () => {
    expect(TRANSITIONS.filter((t) => t.to === 'pending_approval')).toEqual([]);
    for (const s of QUERY_STATUSES.filter((s) => !TERMINAL_STATUSES.has(s))) {
      expect(TRANSITIONS.some((t) => t.from === s && TERMINAL_STATUSES.has(t.to)), s).toBe(true);
    }
  });

  it('reaches every status from a status a record is created in', () => {
    const seen = new Set<QueryStatus>(INITIAL_STATUSES);
    for (let grew = true; grew; ) {
      grew = false;
      for (const t of TRANSITIONS) if (seen.has(t.from) && !seen.has(t.to)) grew = seen.add(t.to).size > 0;
    }
    expect([...seen].sort()).toEqual([...QUERY_STATUSES].sort());
  });

  it('lists each transition once, and refuses a batch with one bad source', () => {
    expect(new Set(TRANSITIONS.map((t) => `${t.from}>${t.to}`)).size).toBe(TRANSITIONS.length);
    expect(codeOf(() => assertTransitions(['queued', 'succeeded'], 'running'))).toBe('INTERNAL');
    expect(codeOf(() => assertTransitions(['running'], 'running'))).toBeUndefined();
  });

  it('creates records only as the policy decided', () => {
    expect(codeOf(() => assertInitial('queued'))).toBeUndefined();
    expect(codeOf(() => assertInitial('pending_approval'))).toBeUndefined();
    expect(codeOf(() => assertInitial('denied'))).toBeUndefined();
    expect(codeOf(() => assertInitial('running'))).toBe('INTERNAL');
  });
});

describe('docs/api.md', () => {
  const doc = readFileSync('docs/api.md', 'utf8');
  const section = doc.slice(doc.indexOf('## Statuses'), doc.indexOf('\n## ', doc.indexOf('## Statuses') + 1));

  it('lists every status, and marks exactly the terminal ones', () => {
    const rows = [...section.matchAll(/^\| `(\w+)` \| ?(✔?) ?\|/gm)].map((m) => [m[1], m[2] === '✔'] as const);
    expect(rows.map(([s]) => s).sort()).toEqual([...QUERY_STATUSES].sort());
    for (const [status, terminal] of rows) expect(terminal, status).toBe(TERMINAL_STATUSES.has(status as QueryStatus));
  });

  it('lists exactly the transitions of the table', () => {
    const rows = [...section.matchAll(/^\| `(\w+)` \| `(\w+)` \|/gm)].map((m) => `${m[1]} → ${m[2]}`);
    expect(rows).toEqual(TRANSITIONS.map((t) => `${t.from} → ${t.to}`));
  });
});
