/**
 * The gateway's pure parts, table-driven: binds as literals, the rowset
 * encoding of stored (masked) results, and the documented error codes.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { applyBindings } from '../../src/snowflake-wire/gateway/binds.ts';
import { GATEWAY_CODES, wireErrorFor } from '../../src/snowflake-wire/gateway/codes.ts';
import { encodeRows, rowsetPlan, settleTemporal } from '../../src/snowflake-wire/gateway/rowset.ts';
import { temporalCell } from '../../src/snowflake-wire/gateway/temporal.ts';

describe('binds', () => {
  it.each([
    ['select ?, ?', { 1: { type: 'FIXED', value: '42' }, 2: { type: 'TEXT', value: "it's" } }, "select 42, 'it''s'"],
    ['select :2, :1', { 1: { type: 'TEXT', value: 'a' }, 2: { type: 'REAL', value: '1.5e3' } }, "select 1.5e3, 'a'"],
    ["select '?', \"?\", ? -- ?", { 1: { type: 'BOOLEAN', value: 'true' } }, "select '?', \"?\", TRUE -- ?"],
    ['select x::int, ?', { 1: { type: 'TEXT', value: null } }, 'select x::int, NULL'],
    ['select ?', { 1: { type: 'TEXT', value: "a\\'; drop table t; --" } }, "select 'a\\\\''; drop table t; --'"],
    ['select 5 -?, 2 -:2 + 1', { 1: { type: 'FIXED', value: '-1' }, 2: { type: 'REAL', value: '-2.5' } }, 'select 5 -(-1), 2 -(-2.5) + 1'],
    ['select 1', undefined, 'select 1'],
  ])('%s', (sql, bindings, expected) => {
    expect(applyBindings(sql, bindings as never).sql).toBe(expected);
  });

  it.each([
    ['select ?', { 1: { type: 'FIXED', value: '1; drop table t' } }, '002018'],
    ['select ?, ?', { 1: { type: 'TEXT', value: 'a' } }, '002049'],
    ['select 1', { 1: { type: 'TEXT', value: 'a' } }, '002049'],
    ['select ?', { 1: { type: 'TEXT', value: ['a', 'b'] } }, '471005'],
  ])('refuses %s with %s', (sql, bindings, code) => {
    expect(() => applyBindings(sql, bindings as never)).toThrow(expect.objectContaining({ code }));
  });
});

describe('rowset', () => {
  const columns = [
    { name: 'ID', type: 'fixed', nullable: false, precision: 38, scale: 0 },
    { name: 'PRICE', type: 'real', nullable: true },
    { name: 'OK', type: 'boolean', nullable: true },
    { name: 'DOC', type: 'variant', nullable: true },
    { name: 'SSN', type: 'text', nullable: true },
    { name: 'BORN', type: 'date', nullable: true },
    { name: 'SALARY', type: 'fixed', nullable: true, precision: 12, scale: 2 },
  ];

  it('keeps the warehouse types, but a masked column is text', () => {
    const plan = settleTemporal(rowsetPlan(columns, new Set([6])), [['1', 1, true, {}, 'x', '1990-01-02', 'y']]);
    expect(plan.rowtype.map((c) => [c.name, c.type])).toEqual([
      ['ID', 'fixed'],
      ['PRICE', 'real'],
      ['OK', 'boolean'],
      ['DOC', 'variant'],
      ['SSN', 'text'],
      ['BORN', 'date'],
      ['SALARY', 'text'],
    ]);
    expect(plan.rowtype[0]).toMatchObject({ precision: 38, scale: 0 });
    expect(encodeRows([[12345678901234567890n.toString(), 1.5, true, { a: [1] }, '***-**-1234', '1990-01-02', '[salary]'], [1, null, false, 'x', null, null, null]], plan.encodings)).toEqual([
      ['12345678901234567890', '1.5', '1', '{"a":[1]}', '***-**-1234', '7306', '[salary]'],
      ['1', null, '0', '"x"', null, null, null],
    ]);
  });

  it('reads dates, times and timestamps back from the warehouse text exactly', () => {
    expect(temporalCell('1970-01-02', 'date')).toBe('1');
    expect(temporalCell('1969-12-31', 'date')).toBe('-1');
    expect(temporalCell('2021-04-16 14:12:09.000', 'timestamp_ntz')).toBe('1618582329.000000000');
    expect(temporalCell('1969-12-31 23:59:59.5', 'timestamp_ntz')).toBe('-0.500000000');
    expect(temporalCell('2021-04-16 14:12:09.123456789 -0700', 'timestamp_ltz')).toBe('1618607529.123456789');
    expect(temporalCell('2021-04-16 14:12:09.000 +0200', 'timestamp_tz')).toBe('1618575129.000000000 1560');
    expect(temporalCell('13:45:01.25', 'time')).toBe('49501.250000000');
    for (const [text, type] of [
      ['2021-02-30', 'date'],
      ['16/04/2021', 'date'],
      ['2021-04-16 14:12:09.000 -0700', 'timestamp_ntz'],
      ['2021-04-16 14:12:09.000', 'timestamp_tz'],
      ['25:00:00', 'time'],
    ] as const) {
      expect(temporalCell(text, type), text).toBeUndefined();
    }
  });

  it('a temporal column with any value of another shape travels as text', () => {
    const cols = [{ name: 'D', type: 'date', nullable: true }, { name: 'T', type: 'timestamp_ntz', nullable: true }];
    const plan = settleTemporal(rowsetPlan(cols, new Set()), [['2021-01-01', '2021-01-01 00:00:00.000'], [null, 'Fri, 01 Jan 2021']]);
    expect(plan.rowtype.map((c) => c.type)).toEqual(['date', 'text']);
    expect(encodeRows([[null, 'Fri, 01 Jan 2021']], plan.encodings)).toEqual([[null, 'Fri, 01 Jan 2021']]);
  });
});

describe('codes', () => {
  it('puts the Airlock code and the reason codes in the message', () => {
    const err = wireErrorFor('POLICY_DENIED', 'COPY is never allowed.', ['EXFILTRATION', 'EXFILTRATION', 'INCOMPLETE_ANALYSIS']);
    expect({ code: err.code, sqlState: err.sqlState, message: err.message }).toEqual({
      code: '471001',
      sqlState: '42501',
      message: 'Airlock POLICY_DENIED [EXFILTRATION, INCOMPLETE_ANALYSIS]: COPY is never allowed.',
    });
    expect(wireErrorFor('WAREHOUSE_SQL_ERROR', 'x').code).toBe('471006');
    expect(wireErrorFor('CANCELLED', 'x').code).toBe('000604');
  });

  it('docs/snowflake-wire.md lists every code the gateway answers with', async () => {
    const doc = await readFile('docs/snowflake-wire.md', 'utf8');
    const listed = new Set([...doc.matchAll(/^\| `(\d{6})`/gm)].map((m) => m[1]));
    for (const { code } of Object.values(GATEWAY_CODES)) expect(listed, code).toContain(code);
    expect(new Set(Object.values(GATEWAY_CODES).map((c) => c.code)).size).toBe(Object.keys(GATEWAY_CODES).length);
  });
});
