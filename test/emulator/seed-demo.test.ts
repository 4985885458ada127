/**
 * The demo seed: deterministic, the promised sizes and shapes, and every
 * SSN and card number valid by the rules the detectors use.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/emulator/seed/demo.ts';
import { createRng, fakeCardNumber, fakeSsn, isValidSsn, luhnCheckDigit, luhnValid } from '../../src/emulator/seed/pii.ts';

async function seeded(): Promise<{ conn: DuckDBConnection; ms: number }> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const created: string[] = [];
  const t0 = performance.now();
  await seedDemo(conn, {
    createDatabase: async (name) => {
      created.push(name);
      await conn.run(`ATTACH IF NOT EXISTS ':memory:' AS "${name}"`);
    },
  });
  expect(created).toEqual(['ANALYTICS', 'HR']);
  return { conn, ms: performance.now() - t0 };
}

async function rows(conn: DuckDBConnection, sql: string): Promise<unknown[][]> {
  return (await conn.runAndReadAll(sql)).getRowsJson() as unknown[][];
}

const CHECKSUM = (table: string, key: string) =>
  `SELECT count(*), md5(string_agg(t::VARCHAR, '|' ORDER BY ${key})) FROM ${table} t`;

let a: DuckDBConnection;
let b: DuckDBConnection;

// Seeding speed is not asserted here: speed belongs in bench/ (a 6 s bound failed on a loaded 2-core box).
beforeAll(async () => {
  a = (await seeded()).conn;
  b = (await seeded()).conn;
});
afterAll(() => {
  a.closeSync();
  b.closeSync();
});

describe('seedDemo', () => {
  it.each([
    ['"ANALYTICS"."PUBLIC"."CUSTOMERS"', 'CUSTOMER_ID', '10000'],
    ['"ANALYTICS"."PUBLIC"."ORDERS"', 'ORDER_ID', '50000'],
    ['"HR"."CORE"."EMPLOYEES"', 'EMPLOYEE_ID', '500'],
  ])('%s is deterministic with %s rows', async (table, key, count) => {
    const x = await rows(a, CHECKSUM(table, key));
    const y = await rows(b, CHECKSUM(table, key));
    expect(x).toEqual(y);
    expect(x[0]![0]).toBe(count);
  });

  it('has the documented columns and types', async () => {
    const cols = await rows(
      a,
      `SELECT table_name, string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM duckdb_columns()
       WHERE database_name IN ('ANALYTICS', 'HR') GROUP BY table_name ORDER BY table_name`,
    );
    expect(cols).toEqual([
      ['CUSTOMERS', 'CUSTOMER_ID DECIMAL(38,0), FIRST_NAME VARCHAR, LAST_NAME VARCHAR, EMAIL VARCHAR, SSN VARCHAR, CARD_NUMBER VARCHAR, PHONE VARCHAR, STREET_ADDRESS VARCHAR, CITY VARCHAR, STATE VARCHAR, ZIP VARCHAR, DATE_OF_BIRTH DATE, CREATED_AT TIMESTAMP, NOTES VARCHAR, PROFILE JSON, SEGMENT VARCHAR, LIFETIME_VALUE DECIMAL(12,2)'],
      ['EMPLOYEES', 'EMPLOYEE_ID DECIMAL(38,0), FULL_NAME VARCHAR, EMAIL VARCHAR, SSN VARCHAR, SALARY DECIMAL(12,2), DEPARTMENT VARCHAR, TITLE VARCHAR, HIRE_DATE DATE, MANAGER_ID DECIMAL(38,0), DATE_OF_BIRTH DATE'],
      ['ORDERS', 'ORDER_ID DECIMAL(38,0), CUSTOMER_ID DECIMAL(38,0), ORDER_DATE DATE, STATUS VARCHAR, AMOUNT DECIMAL(12,2), CURRENCY VARCHAR, SHIPPING_ADDRESS VARCHAR, ITEMS JSON, CREATED_AT TIMESTAMP'],
    ]);
  });

  it('every SSN is valid and every card passes Luhn', async () => {
    const ssns = await rows(a, 'SELECT SSN FROM "ANALYTICS"."PUBLIC"."CUSTOMERS" UNION ALL SELECT SSN FROM "HR"."CORE"."EMPLOYEES"');
    expect(ssns.length).toBe(10500);
    expect(ssns.filter((r) => !isValidSsn(r[0] as string))).toEqual([]);
    const cards = await rows(a, 'SELECT CARD_NUMBER FROM "ANALYTICS"."PUBLIC"."CUSTOMERS"');
    expect(cards.filter((r) => !luhnValid(r[0] as string) || !/^\d{13,19}$/.test(r[0] as string))).toEqual([]);
  });

  it('emails are on example domains, phones are NANP 555-01xx, orders reference customers', async () => {
    expect(
      await rows(a, `SELECT count(*) FROM "ANALYTICS"."PUBLIC"."CUSTOMERS" WHERE NOT regexp_matches(EMAIL, '^[a-z]+\\.[a-z]+\\d+@example\\.(com|org|net)$')`),
    ).toEqual([['0']]);
    expect(
      await rows(a, `SELECT count(*) FROM "ANALYTICS"."PUBLIC"."CUSTOMERS" WHERE NOT regexp_matches(PHONE, '^(\\+1-\\d{3}-555-01\\d{2}|\\(\\d{3}\\) 555-01\\d{2})$')`),
    ).toEqual([['0']]);
    expect(
      await rows(a, `SELECT count(*) FROM "ANALYTICS"."PUBLIC"."ORDERS" o ANTI JOIN "ANALYTICS"."PUBLIC"."CUSTOMERS" c USING (CUSTOMER_ID)`),
    ).toEqual([['0']]);
    expect(await rows(a, `SELECT count(*) FROM "HR"."CORE"."EMPLOYEES" WHERE MANAGER_ID IS NULL`)).toEqual([['1']]);
  });

  it('some NOTES and PROFILEs carry embedded PII for the value detectors', async () => {
    const [[ssnNotes, emailNotes, profileEmails]] = (await rows(
      a,
      `SELECT count(*) FILTER (WHERE regexp_matches(NOTES, '\\d{3}-\\d{2}-\\d{4}')),
              count(*) FILTER (WHERE regexp_matches(NOTES, '@example\\.')),
              count(*) FILTER (WHERE json_extract_string(PROFILE, '$.contacts[0].value') LIKE '%@example.%')
       FROM "ANALYTICS"."PUBLIC"."CUSTOMERS"`,
    )) as [[string, string, string]];
    expect(Number(ssnNotes)).toBeGreaterThan(50);
    expect(Number(emailNotes)).toBeGreaterThan(50);
    expect(Number(profileEmails)).toBeGreaterThan(1000);
  });

  it('honours custom sizes', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    await seedDemo(conn, {
      createDatabase: async (n) => void (await conn.run(`ATTACH IF NOT EXISTS ':memory:' AS "${n}"`)),
      customers: 20,
      orders: 30,
      employees: 5,
    });
    expect(
      await rows(conn, `SELECT (SELECT count(*) FROM "ANALYTICS"."PUBLIC"."CUSTOMERS"), (SELECT count(*) FROM "ANALYTICS"."PUBLIC"."ORDERS"), (SELECT count(*) FROM "HR"."CORE"."EMPLOYEES")`),
    ).toEqual([['20', '30', '5']]);
    conn.closeSync();
  });
});

describe('PII validators', () => {
  it.each([
    ['4111111111111111', true],
    ['4111111111111112', false],
    ['378282246310005', true],
    ['4111-1111-1111-1111', true],
    ['abc', false],
  ])('luhnValid(%s) = %s', (n, ok) => expect(luhnValid(n)).toBe(ok));

  it.each([
    ['123-45-6789', true],
    ['000-12-3456', false],
    ['666-12-3456', false],
    ['900-12-3456', false],
    ['123-00-4567', false],
    ['123-45-0000', false],
    ['123456789', false],
  ])('isValidSsn(%s) = %s', (s, ok) => expect(isValidSsn(s)).toBe(ok));

  it('generators produce valid values and the check digit completes Luhn', () => {
    const rng = createRng(7);
    for (let i = 0; i < 2000; i++) {
      expect(isValidSsn(fakeSsn(rng))).toBe(true);
      expect(luhnValid(fakeCardNumber(rng))).toBe(true);
    }
    expect(luhnCheckDigit('411111111111111')).toBe(1);
  });
});
