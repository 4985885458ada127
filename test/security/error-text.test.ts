/**
 * Class 3 of the soundness issue (docs/security.md): warehouse error text that
 * echoes data. The rule under test: an error message never carries a value the
 * agent did not itself send. Many invented messages, in the shapes Snowflake
 * and DuckDB use and in shapes neither uses today, each carrying a value taken
 * from the data; the value must be gone, and the parts the agent wrote (its
 * identifiers, its syntax mistakes) must stay so errors remain useful.
 */
import { describe, expect, it } from 'vitest';
import { ERROR_REDACTION, MAX_ERROR_TEXT_CHARS, redactErrorText, sqlTokens } from '../../src/masking/error-text.ts';
import { mapDriverError } from '../../src/warehouse/snowflake.ts';

/** Values as the demo data holds them, and as an attacker's rewrite turns them. */
const SECRETS = [
  '189-43-2403',
  '189x43x2403',
  '189432403',
  '3042189',
  'mark.johnson1@example.net',
  'mark.johnson1',
  '+1-305-555-0195',
  '305.555.0195',
  '4111111111111111',
  '4111 1111 1111 1111',
  '9170 Chestnut Rd',
  "O'Brien",
  'Complained about late delivery in the spring.',
  '85000',
  '1985-04-12',
  'Patricia',
  'Y3QtYWdlbnQ',
];

/** How a warehouse may put a value into a message; `V` is the value. */
const TEMPLATES = [
  "Numeric value 'V' is not recognized",
  "Date 'V' is not recognized",
  "Timestamp 'V' is not recognized",
  "Time 'V' is not recognized",
  "Boolean value 'V' is not recognized",
  "Can't parse 'V' as timestamp with format 'AUTO'",
  "Can't parse 'V' as date with format 'YYYY-MM-DD'",
  'Failed to cast variant value "V" to FIXED',
  "String 'V' is too long and would be truncated",
  "Invalid regular expression: 'V', no argument for repetition operator: ?",
  'Error parsing JSON: unknown keyword "V", pos 4',
  'Error parsing JSON: malformed JSON at byte 0 of input: unexpected character.  Input: "V" when casting from source column EMAIL',
  "100038 (22018): Numeric value 'V' is not recognized",
  "Conversion Error: Could not convert string 'V' to INT32",
  'Conversion Error: Could not convert string "V" to DECIMAL(18,3)',
  'Conversion Error: Could not convert string V to INT64',
  'Conversion Error: Type INT64 with value V can\'t be cast because the value is out of range for the destination type INT8',
  'Could not parse string "V" according to format specifier "%Y-%m-%d"',
  'Failed to cast value to decimal: "V"',
  'Invalid input: V',
  'invalid value: V (expected a number)',
  'bad row found: V',
  'Invalid Input Error: value=V',
  'cannot convert `V` to NUMBER',
  'cannot convert \u2018V\u2019 to NUMBER',
  'cannot convert \u201cV\u201d to NUMBER',
  'cannot convert \u00abV\u00bb to NUMBER',
  'invalid argument [V] for function TO_NUMBER',
  "SQL compilation error:\nObject 'V' does not exist or not authorized.",
  "SQL compilation error: error line 1 at position 7\ninvalid identifier 'V'",
  "Uncaught exception of type 'STATEMENT_ERROR' on line 3 at position 4 : Object 'V' does not exist",
  "User-defined function error: 'V'",
  "Nested 'quote \"V\" inside' text",
  "unterminated quote 'V",
  'unterminated quote "V and more',
  "Numeric value 'x' is not recognized and V' is not recognized",
  "Can't parse 'x' as date and V' as timestamp with format 'AUTO'",
];

/** Statements that carry none of the values (the agent never sent them). */
const SQL = [
  "select to_number(replace(ssn,'-','x')) from customers",
  'select email::int from customers',
  'select to_date(ssn) from customers c join orders o on o.customer_id = c.customer_id',
  "select parse_json('{\"a\":\"' || ssn || '\"}'):a::int from customers",
  'select strtok(notes, \' \', 1)::int from customers',
  "execute immediate $$ select * from identifier((select max(email) from customers)) $$",
];

function leaks(out: string, secret: string): boolean {
  if (out.includes(secret)) return true;
  // A rewrite the agent chose must not slip through either: the digits alone, or the local part of an email.
  const digits = secret.replace(/\D/g, '');
  return digits.length >= 4 && out.replace(/\D/g, '').includes(digits);
}

describe('warehouse error text: values the agent did not send are redacted', () => {
  const cases = SECRETS.flatMap((secret) => TEMPLATES.flatMap((t) => SQL.map((sql) => ({ secret, message: t.replaceAll('V', secret), sql }))));

  it(`no value survives in ${cases.length} message/SQL combinations`, () => {
    const leaked = cases
      .map((c) => ({ ...c, out: redactErrorText(c.message, { sql: c.sql, names: ['ANALYTICS.PUBLIC.CUSTOMERS', 'ANALYTICS.PUBLIC.ORDERS'] }) }))
      .filter((c) => leaks(c.out, c.secret));
    expect(leaked.slice(0, 5)).toEqual([]);
  });

  it('redacts a value echoed in a value position even when the SQL holds it as a decoy literal', () => {
    // Decoys would turn the echo into an oracle: `to_number(substr(ssn,1,1)||'x')` with '0x'…'9x' in the SQL.
    const sql = "select to_number(substr(ssn,1,1)||'x') from customers where 'x' in ('0x','1x','2x','3x','4x','5x','6x','7x','8x','9x')";
    expect(redactErrorText("Numeric value '5x' is not recognized", { sql })).toBe(`Numeric value '${ERROR_REDACTION}' is not recognized`);
    expect(redactErrorText('Conversion Error: Could not convert string 5x to INT32', { sql })).not.toMatch(/\b5x\b/);
  });

  it.each([
    ['a value with quotes inside', "Numeric value 'it's 189-43-2403 ok' is not recognized", '189-43-2403'],
    ['a value that closes its quote early', "Numeric value 'abc' is 189-43-2403' is not recognized", '189-43-2403'],
    ['a value over several lines', "Numeric value 'line one\n189-43-2403\nline three' is not recognized", '189-43-2403'],
    ['a long message cut inside its quote', `Numeric value '${'a'.repeat(MAX_ERROR_TEXT_CHARS)}189-43-2403' is not recognized`, '189-43-2403'],
    ['an unquoted long number', 'Out of Range Error: Cast from 189432403000 to INT32 failed', '189432403000'],
    ['an unquoted card number', 'Overflow in multiplication of INT64 (4111111111111111 * 10)', '4111111111111111'],
    ['a value after "got"', 'expected NUMBER got: 189-43-2403', '189-43-2403'],
    ['a value after "near"', 'syntax error near: 189-43-2403 at end', '189-43-2403'],
    ['an email in plain prose', 'The value for mark.johnson1@example.net is invalid', 'mark.johnson1@example.net'],
    ['a phone in plain prose', 'cannot parse +1 (305) 555-0195 as number', '555-0195'],
  ])('%s', (_name, message, secret) => {
    const out = redactErrorText(message, { sql: 'select x::int from customers' });
    expect(out).not.toContain(secret);
  });

  it('a fragment is redacted when only part of it was sent (no substring credit)', () => {
    // The SQL holds `189` and `43` but not the whole value.
    const sql = "select 189, 43, 2403, 'x' from customers";
    expect(redactErrorText("Object '189x43x2403' does not exist", { sql })).toBe(`Object '${ERROR_REDACTION}' does not exist`);
  });
});

describe('warehouse error text: what the agent sent stays useful', () => {
  it.each([
    ['select ssnn from customers', "SQL compilation error: error line 1 at position 7\ninvalid identifier 'SSNN'"],
    ['select c.ssnn from customers c', "SQL compilation error: error line 1 at position 7\ninvalid identifier 'C.SSNN'"],
    ['select "lower" from customers', "SQL compilation error: error line 1 at position 7\ninvalid identifier '\"lower\"'"],
    ['selec 1', "SQL compilation error:\nsyntax error line 1 at position 0 unexpected 'selec'."],
    ['select * from customerz', "SQL compilation error:\nObject 'ANALYTICS.PUBLIC.CUSTOMERZ' does not exist or not authorized."],
    ['select * from nodb.public.t', "SQL compilation error:\nDatabase 'NODB' does not exist or not authorized."],
    ['select frobnicate(1)', 'SQL compilation error:\nUnknown function FROBNICATE'],
    ['select 1/0', 'Division by zero'],
    ['insert into t select ssn from customers', 'Expression type does not match column data type, expecting NUMBER(38,0) but got VARCHAR(16777216) for column SSN'],
    ['select a, b from t group by a', "SQL compilation error: error line 1 at position 10\n[T.B] is not a valid group by expression"],
    ['select 1', 'Statement reached its statement or warehouse timeout and was canceled.'],
  ])('%s → unchanged', (sql, message) => {
    expect(redactErrorText(message, { sql, names: ['ANALYTICS.PUBLIC.CUSTOMERZ'] })).toBe(message);
  });

  it('keeps the code prefix and positions, redacts only the value', () => {
    expect(redactErrorText("100038 (22018): Numeric value 'abc' is not recognized", { sql: "select 'abc'::int" })).toBe(
      `100038 (22018): Numeric value '${ERROR_REDACTION}' is not recognized`,
    );
  });

  it('is idempotent: a redacted message passes through unchanged', () => {
    for (const t of TEMPLATES) {
      const once = redactErrorText(t.replaceAll('V', '189-43-2403'), { sql: SQL[0]! });
      expect(redactErrorText(once, { sql: SQL[0]! })).toBe(once);
    }
  });

  it('reads string literals, $$ strings and quoted identifiers of the SQL as tokens', () => {
    const tokens = sqlTokens("select 'it''s', $$raw text$$, \"Mixed Case\", a.b_c1 from t -- x");
    expect(tokens).toEqual(new Set(['SELECT', "IT'S", "IT''S", 'RAW TEXT', 'MIXED CASE', 'A', 'B_C1', 'FROM', 'T', 'X']));
  });
});

describe('the Snowflake adapter redacts at the edge', () => {
  it('a driver SQL error becomes WAREHOUSE_SQL_ERROR with the value gone and no raw cause kept', () => {
    const driverError = Object.assign(new Error("Numeric value '189x43x2403' is not recognized"), { code: '100038', sqlState: '22018', data: { queryId: 'q-1' } });
    const mapped = mapDriverError(driverError, { sql: "select to_number(replace(ssn,'-','x')) from customers" });
    expect(mapped.code).toBe('WAREHOUSE_SQL_ERROR');
    expect(mapped.message).toBe(`Numeric value '${ERROR_REDACTION}' is not recognized`);
    expect(mapped.details).toEqual({ snowflakeCode: '100038', sqlState: '22018', queryId: 'q-1' });
    // pino serializes `cause`: the raw text must not ride along.
    expect(JSON.stringify({ cause: String(mapped.cause ?? '') })).not.toContain('189x43x2403');
  });

  it('without the SQL it fails closed: every quoted fragment goes', () => {
    const driverError = Object.assign(new Error("SQL compilation error:\ninvalid identifier 'SSNN'"), { code: '000904', sqlState: '42000' });
    expect(mapDriverError(driverError).message).toBe(`SQL compilation error:\ninvalid identifier '${ERROR_REDACTION}'`);
  });
});
