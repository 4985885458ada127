/**
 * Table-driven policy corpus: every case in test/policy/corpus/*.ts evaluated
 * against the shipped default policy (policies/default.yaml), with the action,
 * the reason codes, the risk, approvals and the sensitive names it must carry.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPolicyEngine } from '../../src/policy/engine.ts';
import { parsePolicy } from '../../src/policy/schema.ts';
import { ALL_CASES, THEMES } from './corpus/index.ts';
import type { PolicyCase } from './corpus/types.ts';

const parsed = parsePolicy(readFileSync(new URL('../../policies/default.yaml', import.meta.url), 'utf8'));
if (!parsed.ok) throw new Error(`policies/default.yaml is invalid: ${JSON.stringify(parsed.problems)}`);
const engine = createPolicyEngine(parsed.policy);

type AnyReason = { code: string; message: string; statement: number; table?: string; column?: string; rule?: string };
type AnyStatement = { kind: string; tables: string[]; columns: string[]; complete: boolean };
type AnyDecision = {
  action: string;
  risk: string;
  reasons: AnyReason[];
  approvals: { required: number; groups: string[] };
  statements: AnyStatement[];
  fingerprint: string;
  complete: boolean;
  limits?: { maxRows?: number };
};

const evaluate = (sql: string, ctx?: PolicyCase['ctx']): AnyDecision => engine.evaluate(sql, ctx) as unknown as AnyDecision;

/** A short, printable test name (control and invisible characters escaped). */
const label = (c: PolicyCase): string => {
  const s = JSON.stringify(c.sql).slice(1, -1);
  const printable = s.replace(/[\u00a0\u2000-\u200f\u2028-\u202f\u3000\ufeff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const short = printable.length > 110 ? `${printable.slice(0, 107)}...` : printable;
  const want = Array.isArray(c.action) ? c.action.join('|') : c.action;
  return `${want} ← ${short}`;
};

const SENSITIVE_CODES = new Set(['SENSITIVE_COLUMN', 'SENSITIVE_TABLE']);

function check(c: PolicyCase): void {
  const d = evaluate(c.sql, c.ctx);
  const codes = d.reasons.map((r) => r.code);
  const summary = JSON.stringify({ action: d.action, risk: d.risk, codes, approvals: d.approvals, statements: d.statements.map((s) => [s.kind, s.complete, s.tables]) });

  // action
  if (Array.isArray(c.action)) expect(c.action, summary).toContain(d.action);
  else expect(d.action, summary).toBe(c.action);

  // reasons
  if (c.codes && c.codes.length > 0) expect(codes, summary).toEqual(expect.arrayContaining(c.codes));
  for (const absent of c.absent ?? []) expect(codes, `${absent} must not appear: ${summary}`).not.toContain(absent);
  for (const r of d.reasons) {
    expect(typeof r.code).toBe('string');
    expect(r.code).toMatch(/^[A-Z][A-Z0-9_]*$/);
    expect(typeof r.message).toBe('string');
    expect(Number.isInteger(r.statement)).toBe(true);
  }

  // risk
  if (c.risk) {
    if (Array.isArray(c.risk)) expect(c.risk, summary).toContain(d.risk);
    else expect(d.risk, summary).toBe(c.risk);
  }

  // approvals
  if (c.approvals !== undefined) expect(d.approvals.required, summary).toBe(c.approvals);
  if (c.groups) expect(d.approvals.groups, summary).toEqual(expect.arrayContaining(c.groups));
  if (d.action === 'review') expect(d.approvals.required, summary).toBeGreaterThanOrEqual(1);

  // sensitive names
  for (const name of c.names ?? []) {
    const parts = name.split('.').length;
    const hit = d.reasons.some(
      (r) =>
        SENSITIVE_CODES.has(r.code) &&
        (parts === 4 ? r.column === name : r.table === name || (r.column ?? '').startsWith(`${name}.`)),
    );
    expect(hit, `a SENSITIVE_* reason must name ${name}: ${JSON.stringify(d.reasons)}`).toBe(true);
  }

  // statement facts
  if (c.statements !== undefined) expect(d.statements.length, summary).toBe(c.statements);
  if (c.kinds) expect(d.statements.map((s) => s.kind), summary).toEqual(c.kinds);
  if (c.tables) expect(d.statements.flatMap((s) => s.tables), summary).toEqual(expect.arrayContaining(c.tables));

  // invariants every decision keeps
  expect(d.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  if (d.statements.length > 1) {
    expect(codes, summary).toContain('MULTI_STATEMENT');
    expect(d.action, summary).not.toBe('allow');
  }
  if (d.action === 'allow') {
    expect(d.complete, summary).toBe(true);
    for (const s of d.statements) {
      expect(s.complete, summary).toBe(true);
      expect(['select', 'show', 'describe', 'explain'], summary).toContain(s.kind);
    }
    expect(d.risk, summary).toBe('low');
  }
  if (d.complete === false || d.statements.some((s) => !s.complete)) expect(d.action, summary).not.toBe('allow');
  if (d.statements.some((s) => s.kind === 'unknown')) expect(d.action, summary).not.toBe('allow');
}

describe('policy corpus against policies/default.yaml', () => {
  it('has at least 200 cases, 60 of them evasion attempts, no duplicate SQL', () => {
    expect(ALL_CASES.length).toBeGreaterThanOrEqual(200);
    expect(ALL_CASES.filter((c) => c.evasion).length).toBeGreaterThanOrEqual(60);
    const seen = new Set<string>();
    const dupes = ALL_CASES.filter((c) => {
      if (seen.has(c.sql)) return true;
      seen.add(c.sql);
      return false;
    }).map((c) => c.sql);
    expect(dupes).toEqual([]);
  });

  for (const [theme, cases] of Object.entries(THEMES)) {
    describe(theme, () => {
      it.each(cases.map((c) => [label(c), c] as const))('%s', (_name, c) => check(c));
    });
  }
});

describe('decision details', () => {
  it('allowed reads carry the default row cap', () => {
    const d = evaluate('select id from orders');
    expect(d.action).toBe('allow');
    expect(d.limits?.maxRows).toBe(10000);
  });

  it('sensitive reasons name the statement they are about', () => {
    const d = evaluate('select id from orders; select ssn from customers');
    const r = d.reasons.find((x) => x.code === 'SENSITIVE_COLUMN');
    expect(r?.statement).toBe(1);
    expect(r?.column).toBe('ANALYTICS.PUBLIC.CUSTOMERS.SSN');
  });

  it('resolves tables and columns to DATABASE.SCHEMA.TABLE[.COLUMN] upper case', () => {
    const d = evaluate('select c.ssn, c.id from customers c');
    expect(d.statements[0]!.tables).toEqual(['ANALYTICS.PUBLIC.CUSTOMERS']);
    expect(d.statements[0]!.columns).toEqual(expect.arrayContaining(['ANALYTICS.PUBLIC.CUSTOMERS.SSN', 'ANALYTICS.PUBLIC.CUSTOMERS.ID']));
  });

  it('the same SQL twice gives the same decision (cache or not)', () => {
    const sql = 'select ssn from customers where id = 1';
    expect(evaluate(sql)).toEqual(evaluate(sql));
  });
});

describe('fingerprints', () => {
  const fp = (sql: string) => evaluate(sql).fingerprint;

  it('is 64 hex characters for every kind of decision', () => {
    for (const sql of ['select 1', 'drop table t', 'copy into @s from t', 'frobnicate', 'select 1; select 2']) {
      expect(fp(sql)).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('ignores whitespace, comments and keyword case', () => {
    const base = fp('select id from orders where status = \'open\'');
    expect(fp('SELECT id FROM orders WHERE status = \'open\'')).toBe(base);
    expect(fp('  select\n\tid   from orders\r\nwhere status=\'open\'  ')).toBe(base);
    expect(fp('select /* hi */ id from orders -- trailing\nwhere status = \'open\'')).toBe(base);
    expect(fp('select\u00a0id from orders // note\nwhere status = \'open\'')).toBe(base);
  });

  it('changes when a literal changes', () => {
    const base = fp('select id from orders where id = 1');
    expect(fp('select id from orders where id = 2')).not.toBe(base);
    expect(fp('select id from orders where status = \'open\'')).not.toBe(fp('select id from orders where status = \'OPEN\''));
    expect(fp('select id from orders where status = \'a b\'')).not.toBe(fp('select id from orders where status = \'a  b\''));
  });

  it('changes when the statements change', () => {
    expect(fp('select id from orders')).not.toBe(fp('select id from orders; select 1'));
    expect(fp('drop table a')).not.toBe(fp('drop table b'));
  });
});
