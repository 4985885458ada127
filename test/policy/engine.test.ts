/**
 * Rule semantics of the engine on small, purpose-built policies. The shipped
 * policy's decisions are covered by the corpus (corpus.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { createPolicyEngine } from '../../src/policy/engine.ts';
import { parsePolicy } from '../../src/policy/schema.ts';

function engine(yaml: string, cacheSize?: number) {
  const r = parsePolicy(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return createPolicyEngine(r.policy, cacheSize === undefined ? {} : { cacheSize });
}
const codes = (d: { reasons: Array<{ code: string }> }) => d.reasons.map((r) => r.code);

const BASE = `
version: 1
defaults: { database: SALES, schema: CORE, action: review, approvals: { required: 1, from: [owners], expires_after: 2h } }
approvers:
  owners: { slack_users: [U01AAA] }
  security: { slack_usergroups: [S01BBB] }
sensitive:
  - { column: "*.*.CLIENTS.TAX_ID", type: ssn }
  - { table: "SECRET.*.*", type: restricted }
`;

describe('rule matching', () => {
  it('the strictest matching rule wins: deny > review > allow', () => {
    const e = engine(`${BASE}
rules:
  - { name: reads, match: { category: read }, action: allow }
  - { name: clients, match: { tables: ["*.*.CLIENTS"] }, action: review }
  - { name: no-tax, match: { columns: ["*.*.*.TAX_ID"] }, action: deny, code: TAX_ID_BLOCKED }
`);
    expect(e.evaluate('select name from accounts').action).toBe('allow');
    const review = e.evaluate('select name from clients');
    expect(review.action).toBe('review');
    expect(review.reasons).toEqual([expect.objectContaining({ code: 'TABLE_RULE', rule: 'clients', table: 'SALES.CORE.CLIENTS' })]);
    const deny = e.evaluate('select name from clients where tax_id = 1');
    expect(deny.action).toBe('deny');
    expect(deny.reasons).toEqual([expect.objectContaining({ code: 'TAX_ID_BLOCKED', rule: 'no-tax', column: 'SALES.CORE.CLIENTS.TAX_ID' })]);
  });

  it('unqualified names resolve through defaults.database and defaults.schema', () => {
    const e = engine(`${BASE}
rules:
  - { name: reads, match: { category: read }, action: allow }
  - { name: core-only, match: { tables: ["SALES.CORE.*"] }, action: deny }
`);
    expect(e.evaluate('select a from t').action).toBe('deny');
    expect(e.evaluate('select a from other.t').action).toBe('allow');
    expect(e.evaluate('select a from "SALES"."CORE"."T"').action).toBe('deny');
  });

  it('no matching rule → defaults.action (review unless said otherwise)', () => {
    const e = engine(`${BASE}
rules:
  - { name: reads, match: { category: read }, action: allow }
`);
    const d = e.evaluate('insert into t values (1)');
    expect(d.action).toBe('review');
    expect(d.reasons[0]!.message).toMatch(/no policy rule matches/);
    expect(d.approvals).toEqual({ required: 1, groups: ['owners'], expiresInSeconds: 7200 });
  });

  it('`unless` exempts, e.g. ETL bots may insert', () => {
    const e = engine(`${BASE}
rules:
  - name: writes
    match: { category: write }
    unless: { agent_groups: [etl-bots], kind: insert }
    action: review
  - { name: etl-inserts, match: { agent_groups: [etl-bots], kind: insert }, action: allow }
`);
    expect(e.evaluate('insert into t values (1)', { agent: 'a', groups: ['analysts'] }).action).toBe('review');
    expect(e.evaluate('insert into t values (1)', { agent: 'b', groups: ['etl-bots'] }).action).toBe('allow');
    expect(e.evaluate('delete from t where id = 1', { agent: 'b', groups: ['etl-bots'] }).action).toBe('review');
  });

  it('agents, functions, flags and no_limit', () => {
    const e = engine(`${BASE}
rules:
  - { name: reads, match: { category: read }, action: allow }
  - { name: one-agent, match: { agents: [rogue-bot] }, action: deny }
  - { name: hashing, match: { functions: ["SHA2*"] }, action: review }
  - { name: stars, match: { flags: select_star }, action: review }
  - { name: big, match: { kind: select, no_limit: true, tables: ["*.*.EVENTS"] }, action: review }
`);
    expect(e.evaluate('select 1', { agent: 'rogue-bot' }).action).toBe('deny');
    expect(e.evaluate('select 1', { agent: 'good-bot' }).action).toBe('allow');
    expect(codes(e.evaluate('select sha2_hex(a) from t'))).toEqual(['FUNCTION_CALL']);
    expect(codes(e.evaluate('select * from t'))).toEqual(['SELECT_STAR']);
    expect(codes(e.evaluate('select a from events'))).toEqual(['UNBOUNDED_READ']);
    expect(e.evaluate('select a from events limit 10').action).toBe('allow');
  });

  it('sensitive columns count in predicates, joins, ordering and through *, when the table is named', () => {
    const e = engine(`${BASE}
rules:
  - { name: reads, match: { category: read }, action: allow }
  - { name: pii, match: { touches: [ssn] }, action: review }
  - { name: restricted, match: { touches: [restricted] }, action: deny }
`);
    for (const sql of [
      "select name from clients where tax_id like '12%'",
      'select a.id from accounts a join clients c on c.tax_id = a.ref',
      'select name from clients order by tax_id',
      'select count(*) from clients group by tax_id',
      'select * from clients',
      'select c.* from clients c',
    ]) {
      const d = e.evaluate(sql);
      expect(d.action, sql).toBe('review');
      expect(d.reasons[0], sql).toMatchObject({ code: 'SENSITIVE_COLUMN', column: 'SALES.CORE.CLIENTS.TAX_ID' });
    }
    expect(e.evaluate('select name from clients').action).toBe('allow');
    const secret = e.evaluate('select count(*) from secret.x.y');
    expect(secret).toMatchObject({ action: 'deny', reasons: [expect.objectContaining({ code: 'SENSITIVE_TABLE', table: 'SECRET.X.Y' })] });
  });
});

describe('fail closed', () => {
  const permissive = engine(`
version: 1
defaults: { action: allow }
rules:
  - { name: everything, match: { category: [read, write, ddl, unknown, code, stage, session, transaction, privilege, destructive, exfiltration, account] }, action: allow }
`);

  it.each([
    'merge into t using s on t.id = s.id when matched then delete',
    'vacuum the warehouse', // an unknown statement that starts like SQL (a first word that is no SQL at all is NOT_SQL, denied)
    'select * from t sample (10)',
    'execute immediate $$select 1$$',
    'select a from t where x in (select y from u) and z.q = 1',
  ])('an incomplete statement is never allowed, even by an allow-everything policy: %j', (sql) => {
    const d = permissive.evaluate(sql);
    expect(d.complete).toBe(false);
    expect(d.action).toBe('review');
    expect(codes(d)).toContain('INCOMPLETE_ANALYSIS');
    expect(['high', 'critical']).toContain(d.risk);
  });

  it('the verb sets the risk of what could not be parsed: an unparsed DROP DATABASE is critical', () => {
    const drop = permissive.evaluate('drop database analytics with (force = true)');
    expect(drop).toMatchObject({ action: 'review', risk: 'critical', complete: false });
    expect(drop.statements[0]).toMatchObject({ kind: 'drop', object: 'database', tables: [], objects: ['ANALYTICS'] });
    expect(drop.reasons.at(-1)!.message).toMatch(/^DROP DATABASE ANALYTICS could not be fully analysed/);
    expect(permissive.evaluate('select a from t sample (10)').risk).toBe('high');
  });

  it('unreadable SQL is denied with SQL_UNPARSEABLE; comments alone with SQL_EMPTY', () => {
    expect(permissive.evaluate("select 'unterminated")).toMatchObject({ action: 'deny', reasons: [expect.objectContaining({ code: 'SQL_UNPARSEABLE' })] });
    expect(permissive.evaluate('/* nothing */ -- here')).toMatchObject({ action: 'deny', reasons: [expect.objectContaining({ code: 'SQL_EMPTY' })] });
  });
});

describe('combining statements and approvals', () => {
  const e = engine(`${BASE}
multi_statement: review
rules:
  - { name: reads, match: { category: read }, action: allow, max_rows: 500 }
  - name: drops
    match: { kind: drop }
    action: review
    approvals: { required: 2, from: [security], expires_after: 30m }
  - { name: writes, match: { category: write }, action: review }
`);

  it('a batch is as strict as its strictest statement, at least multi_statement', () => {
    const reads = e.evaluate('select 1; select 2');
    expect(reads.action).toBe('review');
    expect(codes(reads)).toContain('MULTI_STATEMENT');
    const d = e.evaluate('insert into t values (1); drop table t');
    expect(d.action).toBe('review');
    expect(d.approvals).toEqual({ required: 2, groups: ['owners', 'security'], expiresInSeconds: 1800 });
    expect(d.statements.map((s) => s.kind)).toEqual(['insert', 'drop']);
  });

  it('allowed reads carry the strictest row cap', () => {
    expect(e.evaluate('select a from t').limits).toEqual({ maxRows: 500 });
    expect(e.evaluate('select a from t').approvals).toEqual({ required: 0, groups: [] });
  });

  it('EXECUTE IMMEDIATE is judged by the SQL inside it too', () => {
    const d = e.evaluate("execute immediate 'drop table customers'");
    expect(d.action).toBe('review');
    expect(d.approvals.required).toBe(2);
    expect(d.reasons.some((r) => r.rule === 'drops' && r.message.includes('EXECUTE'))).toBe(true);
  });
});

describe('cache', () => {
  it('is keyed by agent and groups as well as SQL, and hands out frozen decisions', () => {
    const e = engine(`${BASE}
rules:
  - { name: reads, match: { category: read }, action: allow }
  - { name: interns, match: { agent_groups: [interns] }, action: deny }
`, 10);
    expect(e.evaluate('select 1', { groups: ['interns'] }).action).toBe('deny');
    const a = e.evaluate('select 1', { groups: ['staff'] });
    expect(a.action).toBe('allow');
    expect(() => {
      a.action = 'deny';
    }).toThrow(TypeError);
    expect(() => a.reasons.push(a.reasons[0]!)).toThrow(TypeError);
    expect(e.evaluate('select 1', { groups: ['staff'] })).toBe(a);
    expect(e.evaluate('select 1', { groups: ['interns'] }).action).toBe('deny');
  });
});
