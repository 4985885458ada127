import { describe, expect, it } from 'vitest';
import { evaluateInterim, fingerprint, lex } from '../../src/policy/interim-gate.ts';

describe('interim gate (fail closed until the policy engine lands)', () => {
  const allowed = [
    'select 1',
    'SELECT * FROM customers LIMIT 3;',
    '  -- leading comment\nselect name from t',
    'with x as (select 1 as a) select a from x',
    'SHOW TABLES',
    'describe table customers',
    "select 'drop table x; delete' as s",
    'select "DELETE" from t',
    "select get(profile, 'email') from customers",
    'select 1 /* ; drop table t */',
  ];
  it.each(allowed)('allows %j', (sql) => {
    const d = evaluateInterim(sql);
    expect(d.action).toBe('allow');
    expect(d.complete).toBe(true);
    expect(d.reasons[0]!.code).toBe('READ_ONLY');
  });

  const denied: Array<[string, string]> = [
    ['drop table customers', 'REVIEW_UNAVAILABLE'],
    ['delete from t where id = 1', 'REVIEW_UNAVAILABLE'],
    ['select 1; drop table t', 'MULTI_STATEMENT'],
    ['/* hide */ insert into t values (1)', 'REVIEW_UNAVAILABLE'],
    ['with x as (select 1) insert into t select * from x', 'REVIEW_UNAVAILABLE'],
    ['copy into @stage from t', 'REVIEW_UNAVAILABLE'],
    ['select 1 into t', 'REVIEW_UNAVAILABLE'],
    ["select 'unterminated", 'SQL_UNPARSEABLE'],
    ['select 1 /* open', 'SQL_UNPARSEABLE'],
    ['   ;; -- nothing', 'SQL_EMPTY'],
    ['grant role sysadmin to user x', 'REVIEW_UNAVAILABLE'],
    ['call proc()', 'REVIEW_UNAVAILABLE'],
    ['(select 1)', 'REVIEW_UNAVAILABLE'],
    // The warehouse session is pooled across agents: these reach other agents' queries.
    ['select * from table(result_scan(last_query_id()))', 'REVIEW_UNAVAILABLE'],
    ["select * from table(\"RESULT_SCAN\"('01b2c3d4-0000-0000-0000-000000000000'))", 'REVIEW_UNAVAILABLE'],
    ['select system$cancel_all_queries(12345)', 'REVIEW_UNAVAILABLE'],
    ['select query_text from table(information_schema.query_history())', 'REVIEW_UNAVAILABLE'],
  ];
  it.each(denied)('denies %j with %s', (sql, code) => {
    const d = evaluateInterim(sql);
    expect(d.action).toBe('deny');
    expect(d.complete).toBe(false);
    expect(d.reasons[0]!.code).toBe(code);
    if (code === 'REVIEW_UNAVAILABLE') expect(d.reasons[0]!.message).toMatch(/review is not available yet/);
  });

  it('splits on semicolons outside strings, identifiers, comments and $$ bodies', () => {
    const { statements } = lex("select ';' as \"a;b\" -- ;\n; select $$x;y$$ // ;\n");
    expect(statements).toHaveLength(2);
  });

  it('fingerprints ignore whitespace, comments and keyword case but keep literals', () => {
    expect(fingerprint('SELECT  a FROM t -- c\n WHERE x = 1')).toBe(fingerprint('select a /* z */ from T where X = 1'));
    expect(fingerprint("select 'A'")).not.toBe(fingerprint("select 'a'"));
    expect(fingerprint('select "A"')).not.toBe(fingerprint('select "a"'));
    expect(fingerprint('select 1')).toMatch(/^[0-9a-f]{64}$/);
  });
});
