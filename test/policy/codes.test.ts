/**
 * The one mapping from a statement's kind, categories, flags and a rule's
 * evidence to a reason code, and from a code to its risk (src/policy/codes.ts).
 */
import { describe, expect, it } from 'vitest';
import { codeFor, kindCode, REASON_CODES, riskOfCode, type KindFacts } from '../../src/policy/codes.ts';
import type { Category, Kind } from '../../src/policy/kinds.ts';

const st = (kind: Kind, categories: Category[], flags: string[] = []): KindFacts => ({ cls: { kind, categories }, flags: new Set(flags) });

describe('kindCode: the most severe family a statement is in', () => {
  it.each([
    ['select', ['read'], [], 'READ_ONLY'],
    ['insert', ['write'], [], 'WRITE'],
    ['delete', ['write'], ['no_where'], 'UNBOUNDED_WRITE'],
    ['insert', ['write', 'destructive'], [], 'DESTRUCTIVE_WRITE'],
    ['drop', ['ddl', 'destructive'], [], 'DESTRUCTIVE_DDL'],
    ['create', ['ddl', 'destructive', 'exfiltration'], [], 'EXFILTRATION'],
    ['grant', ['privilege', 'account'], [], 'ACCOUNT_CHANGE'],
    ['grant', ['privilege'], [], 'PRIVILEGE_CHANGE'],
    ['use', ['session', 'privilege'], [], 'PRIVILEGE_CHANGE'],
    ['begin', ['transaction'], [], 'SESSION_CHANGE'],
    ['call', ['code'], [], 'CODE_EXECUTION'],
    ['copy', ['write', 'stage'], [], 'WRITE'],
    ['list', ['stage'], [], 'STAGE_ACCESS'],
    ['comment', ['ddl'], [], 'DDL'],
    ['unknown', ['code', 'unknown'], [], 'CODE_EXECUTION'],
    ['unknown', ['unknown'], [], 'UNKNOWN_STATEMENT'],
  ] as const)('%s %j %j → %s', (kind, categories, flags, code) => {
    expect(kindCode(st(kind, [...categories], [...flags]))).toBe(code);
  });
});

describe('codeFor: the most specific evidence a rule matched on', () => {
  const write = st('update', ['write'], ['no_where']);
  it.each([
    [{ flag: 'presigned_url', incomplete: true, table: 'T' }, 'EXFILTRATION'],
    [{ incomplete: true, fn: 'F' }, 'INCOMPLETE_ANALYSIS'],
    [{ fn: 'SYSTEM$WHOAMI', column: 'C' }, 'SYSTEM_FUNCTION'],
    [{ fn: 'MY_UDF' }, 'FUNCTION_CALL'],
    [{ column: 'A.B.C.D', category: 'write' }, 'COLUMN_RULE'],
    [{ category: 'write', kind: 'update' }, 'UNBOUNDED_WRITE'],
    [{ kind: 'update_without_where' }, 'UNBOUNDED_WRITE'],
    [{ kind: 'update', table: 'T' }, 'UNBOUNDED_WRITE'],
    [{ table: 'T' }, 'TABLE_RULE'],
    [{}, 'POLICY_RULE'],
  ] as const)('%j → %s', (ev, code) => {
    expect(codeFor(ev, write)).toBe(code);
  });
});

describe('riskOfCode', () => {
  it('gives the documented risks, and none to a code without its own or to a rule’s own code', () => {
    expect(riskOfCode('READ_ONLY')).toBe('low');
    expect(riskOfCode('SENSITIVE_COLUMN')).toBe('medium');
    expect(riskOfCode('INCOMPLETE_ANALYSIS')).toBe('high');
    expect(riskOfCode('EXFILTRATION')).toBe('critical');
    expect(riskOfCode('TABLE_RULE')).toBeUndefined();
    expect(riskOfCode('TAX_ID_BLOCKED')).toBeUndefined();
  });

  it('lists each code once', () => {
    expect(new Set(REASON_CODES).size).toBe(REASON_CODES.length);
  });
});
