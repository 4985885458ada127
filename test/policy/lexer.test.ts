import { describe, expect, it } from 'vitest';
import { fingerprint, lex, normalize, stringValue } from '../../src/policy/lexer.ts';

const verbs = (sql: string) => lex(sql).statements.map((s) => s.tokens[0]?.text);

describe('statement splitter', () => {
  it.each([
    ["select ';' as a; drop table t", ['SELECT', 'DROP']],
    ["select 'it''s; fine'; select 2", ['SELECT', 'SELECT']],
    ["select 'back\\'slash; still string'; delete from t", ['SELECT', 'DELETE']],
    ['select "semi;colon" from t; truncate t', ['SELECT', 'TRUNCATE']],
    ['execute immediate $$ drop table a; drop table b $$; select 1', ['EXECUTE', 'SELECT']],
    ['select 1 -- ; drop table t\n; update t set a = 1', ['SELECT', 'UPDATE']],
    ['select 1 // ; drop table t\n', ['SELECT']],
    ['select 1 /* ; drop table t */', ['SELECT']],
    ['/* drop */ select 1', ['SELECT']],
    [';;; select 1 ;;', ['SELECT']],
    ['\u00a0\u2003select\u3000 1\t;\u00a0\ndelete from t', ['SELECT', 'DELETE']],
  ])('%j → %j', (sql, expected) => {
    expect(lex(sql).error).toBeUndefined();
    expect(verbs(sql)).toEqual(expected);
  });

  it.each([
    ["select 'open", 'an unterminated string literal'],
    ['select "open', 'an unterminated quoted identifier'],
    ['select 1 /* open', 'an unterminated /* comment'],
    ['execute immediate $$ drop', 'an unterminated $$ body'],
    ["select 'a\\'", 'an unterminated string literal'],
  ])('refuses %j: %s', (sql, message) => {
    expect(lex(sql).error?.message).toBe(message);
  });

  it('keeps each statement\'s exact source text, comments inside included', () => {
    const sql = '  select /* c */ a\nfrom t ; drop table x  ';
    expect(lex(sql).statements.map((s) => s.text)).toEqual(['select /* c */ a\nfrom t', 'drop table x']);
  });

  it('resolves string escapes', () => {
    const [st] = lex("select 'it''s \\'q\\' \\n', $$raw \\n$$").statements;
    const strings = st!.tokens.filter((t) => t.kind === 'string');
    expect(strings.map(stringValue)).toEqual(["it's 'q' \n", 'raw \\n']);
  });
});

describe('fingerprint', () => {
  it('ignores whitespace, comments and keyword case', () => {
    const a = fingerprint("SELECT a FROM t WHERE b = 'X'");
    expect(fingerprint("select  a\n  from t -- note\n where b = 'X';")).toBe(a);
    expect(fingerprint("/* hi */ Select A from T where B='X'")).toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps literals and quoted identifiers exact: an approval binds to the values', () => {
    const a = fingerprint("select a from t where b = 'X'");
    expect(fingerprint("select a from t where b = 'x'")).not.toBe(a);
    expect(fingerprint('select a from t where b = 2')).not.toBe(fingerprint('select a from t where b = 3'));
    expect(fingerprint('select "a" from t')).not.toBe(fingerprint('select "A" from t'));
  });

  it('separates statements, so moving a ; changes it', () => {
    expect(normalize(lex('select 1; select 2').statements)).toBe('SELECT 1;\nSELECT 2');
    expect(fingerprint('select 1; select 2')).not.toBe(fingerprint('select 1 select 2'));
  });
});
