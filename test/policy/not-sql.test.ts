/**
 * A statement whose first word is no SQL command is refused at once (NOT_SQL)
 * with the word and a suggestion; nothing that starts like SQL is affected, so
 * the check can only make a decision stricter.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMAND_WORDS, nearestCommand } from '../../src/policy/commands.ts';
import { createPolicyEngine } from '../../src/policy/engine.ts';
import { parsePolicy } from '../../src/policy/schema.ts';
import { ALL_CASES } from './corpus/index.ts';

const parsed = parsePolicy(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8'));
if (!parsed.ok) throw new Error('policies/default.yaml is invalid');
const engine = createPolicyEngine(parsed.policy, { cacheSize: 0 });

describe('NOT_SQL: a first word that is no SQL command', () => {
  it.each([
    ['SELCT * FROM customers', 'SELCT', 'SELECT'],
    ['selet id from orders', 'SELET', 'SELECT'],
    ['INSRT INTO t VALUES (1)', 'INSRT', 'INSERT'],
    ['hello', 'HELLO', undefined],
    ['please show me the customers', 'PLEASE', undefined],
  ])('%s → deny NOT_SQL naming %s', (sql, word, guess) => {
    const d = engine.evaluate(sql);
    expect(d.action).toBe('deny');
    expect(d.risk).toBe('high');
    expect(d.complete).toBe(false);
    expect(d.reasons).toHaveLength(1);
    expect(d.reasons[0]!.code).toBe('NOT_SQL');
    expect(d.reasons[0]!.message).toContain(`"${word}", which is not a SQL command`);
    if (guess) expect(d.reasons[0]!.message).toContain(`did you mean ${guess}?`);
    else expect(d.reasons[0]!.message).not.toContain('did you mean');
  });

  it('names the statement of a multi-statement request and points the reason at it', () => {
    const d = engine.evaluate('select 1; selcet 2');
    expect(d.action).toBe('deny');
    expect(d.reasons[0]).toMatchObject({ code: 'NOT_SQL', statement: 1 });
    expect(d.reasons[0]!.message).toMatch(/^Statement 2 starts with "SELCET"/);
  });

  it.each([
    // Plausible SQL the parser cannot read still goes to review, never to an early refusal.
    ['vacuum orders', 'review'],
    ['select from where', 'review'],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', 'review'],
    ['(select 1) union (select 2)', 'allow'],
    ['"SELCT" * from x', 'review'],
    ['declare x int; begin return 1; end', 'review'],
  ])('%s is not refused as NOT_SQL (%s)', (sql, action) => {
    const d = engine.evaluate(sql);
    expect(d.reasons.map((r) => r.code)).not.toContain('NOT_SQL');
    expect(d.action).toBe(action);
  });

  it('every verb the classifier knows is a command word, so no classified statement is refused by it', () => {
    const classifierVerbs = [...readFileSync(new URL('../../src/policy/classify.ts', import.meta.url), 'utf8').matchAll(/case '([A-Z]+)':/g)].map((m) => m[1]!);
    expect(classifierVerbs.length).toBeGreaterThan(30);
    for (const verb of classifierVerbs) expect(COMMAND_WORDS.has(verb), verb).toBe(true);
  });

  it('no corpus case that starts with a command word is refused as NOT_SQL', () => {
    const refused = ALL_CASES.filter((c) => engine.evaluate(c.sql, c.ctx).reasons.some((r) => r.code === 'NOT_SQL')).map((c) => c.sql);
    expect(refused).toEqual(['frobnicate the warehouse', 'dr\u200bop table customers']);
  });

  it('suggests only close words', () => {
    expect(nearestCommand('SELCET')).toBe('SELECT');
    expect(nearestCommand('UPDTE')).toBe('UPDATE');
    expect(nearestCommand('XYZZY')).toBeUndefined();
    expect(nearestCommand('AB')).toBeUndefined();
  });
});
