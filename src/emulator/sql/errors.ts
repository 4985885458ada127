/**
 * Snowflake-style errors for the emulator, and the mapping from DuckDB's error
 * messages to them. Snowflake codes are what drivers and agents branch on, so
 * the mapping favours the code over the exact wording.
 */
import type { SnowflakeSqlError, Translation } from './types.ts';

/** Error codes the SQL layer produces; see docs/emulator.md. */
export const SF_CODES = {
  /** Object 'X' does not exist or not authorized. */
  objectNotFound: { code: '002003', sqlState: '42S02' },
  /** Schema or database does not exist. */
  schemaNotFound: { code: '002003', sqlState: '02000' },
  /** invalid identifier 'X' */
  invalidIdentifier: { code: '000904', sqlState: '42000' },
  /** syntax error line L at position P unexpected 'X'. */
  syntax: { code: '001003', sqlState: '42000' },
  /** Unknown function X */
  unknownFunction: { code: '002140', sqlState: '42601' },
  /** Numeric value 'abc' is not recognized */
  numericValue: { code: '100038', sqlState: '22018' },
  /** Date/timestamp value is not recognized */
  dateValue: { code: '100040', sqlState: '22007' },
  /** Division by zero */
  divisionByZero: { code: '100051', sqlState: '22012' },
  /** Error parsing JSON */
  jsonParse: { code: '100069', sqlState: '22P02' },
  /** Object already exists. */
  alreadyExists: { code: '002002', sqlState: '42710' },
  /** Generic compilation error (binder errors without a closer match). */
  compilation: { code: '002016', sqlState: '42601' },
  /** Generic execution error. */
  execution: { code: '100090', sqlState: '22000' },
  /** Feature refused by the emulator (Snowflake's "unsupported feature" code). */
  unsupported: { code: '002040', sqlState: '0A000' },
  /** Empty SQL statement. */
  empty: { code: '000900', sqlState: '42000' },
  /** Several statements in one request without MULTI_STATEMENT_COUNT. */
  statementCount: { code: '000008', sqlState: '0A000' },
} as const satisfies Record<string, { code: string; sqlState: string }>;

export type SfErrorKind = keyof typeof SF_CODES;

/** Build a Snowflake error of a known kind. */
export function sfError(kind: SfErrorKind, message: string): SnowflakeSqlError {
  return { ...SF_CODES[kind], message };
}

/** A `kind:'error'` translation. */
export function errorResult(kind: SfErrorKind, message: string): Translation {
  return { kind: 'error', error: sfError(kind, message) };
}

/** Refuse a construct the emulator cannot run faithfully. */
export function unsupported(what: string): Translation {
  return errorResult('unsupported', `SQL compilation error:\nunsupported in the emulator: ${what}`);
}

/** Thrown inside the translator to abort with a Snowflake error. */
export class TranslateError extends Error {
  constructor(readonly error: SnowflakeSqlError) {
    super(error.message);
  }
}

/** Throw an "unsupported in the emulator" error from deep inside a rewrite. */
export function refuse(what: string): never {
  throw new TranslateError(sfError('unsupported', `SQL compilation error:\nunsupported in the emulator: ${what}`));
}

const COMPILE = 'SQL compilation error:\n';

/** Strip quotes and catalog prefixes from a DuckDB object name for display. */
function displayName(raw: string): string {
  return raw.replace(/^"|"$/g, '');
}

/**
 * Map a DuckDB error message to a Snowflake error. DuckDB prefixes its
 * messages with the error class ("Catalog Error: …", "Binder Error: …"); the
 * LINE/caret suffix is dropped.
 */
export function mapDuckDbError(message: string): SnowflakeSqlError {
  const msg = message.split(/\n\s*LINE \d+:/)[0]!.trim();
  const first = msg.split('\n')[0]!;
  let m: RegExpMatchArray | null;

  if (/division by zero/i.test(msg)) return sfError('divisionByZero', 'Division by zero');
  if ((m = first.match(/Table with name (\S+?)(?: does not exist because schema "?([^"\s]+)"? does not exist| does not exist)/))) {
    const name = displayName(m[1]!);
    if (m[2]) {
      return sfError('schemaNotFound', `${COMPILE}Schema '${m[2]}' does not exist or not authorized.`);
    }
    return sfError('objectNotFound', `${COMPILE}Object '${name}' does not exist or not authorized.`);
  }
  if ((m = first.match(/(?:Catalog|Schema) "?([^"\s!]+)"? does not exist/))) {
    return sfError('schemaNotFound', `${COMPILE}Database '${m[1]}' does not exist or not authorized.`);
  }
  if ((m = first.match(/(?:View|Table|Object) with name "?([^"\s!]+)"? (?:does not exist|not found)/))) {
    return sfError('objectNotFound', `${COMPILE}Object '${m[1]}' does not exist or not authorized.`);
  }
  if ((m = first.match(/Referenced column "?([^"\s]+)"? not found/))) {
    return sfError('invalidIdentifier', `${COMPILE}error line 0 at position 0\ninvalid identifier '${m[1]}'`);
  }
  if ((m = first.match(/Table "?([^"\s]+)"? does not have a column named "?([^"\s]+)"?/))) {
    return sfError('invalidIdentifier', `${COMPILE}error line 0 at position 0\ninvalid identifier '${m[1]}.${m[2]}'`);
  }
  if ((m = first.match(/Referenced table "?([^"\s]+)"? not found/))) {
    return sfError('invalidIdentifier', `${COMPILE}error line 0 at position 0\ninvalid identifier '${m[1]}'`);
  }
  if ((m = first.match(/(?:Scalar|Aggregate|Table) Function with name "?([^"\s!]+)"? does not exist/i))) {
    return sfError('unknownFunction', `${COMPILE}Unknown function ${m[1]!.toUpperCase()}`);
  }
  if ((m = first.match(/with name "?([^"\s!]+)"? already exists/))) {
    return sfError('alreadyExists', `${COMPILE}Object '${m[1]}' already exists.`);
  }
  if (/^Parser Error/.test(first)) {
    const near = first.match(/at or near "([^"]*)"/);
    return sfError(
      'syntax',
      `${COMPILE}syntax error line 1 at position 0 unexpected '${near ? near[1] : 'end of input'}'.`,
    );
  }
  if (/Malformed JSON/i.test(first)) return sfError('jsonParse', `Error parsing JSON: ${first.replace(/^.*?Malformed JSON/, 'malformed JSON')}`);
  if ((m = first.match(/Could not convert string ['"](.*)['"] to (INT\d*|UINT\d*|DECIMAL|DOUBLE|FLOAT|BIGINT|HUGEINT)/))) {
    return sfError('numericValue', `Numeric value '${m[1]}' is not recognized`);
  }
  if ((m = first.match(/Could not convert string ['"](.*)['"] to BOOL/))) {
    return sfError('numericValue', `Boolean value '${m[1]}' is not recognized`);
  }
  // Snowflake quotes the value in these too; DuckDB's wording would hide what the real warehouse echoes.
  if ((m = first.match(/Could not parse string "(.*)" according to format specifier "([^"]*)"/))) {
    return sfError('dateValue', `Can't parse '${m[1]}' as timestamp with format '${m[2]}'`);
  }
  if ((m = first.match(/Failed to cast value to (\w+): "(.*)"$/))) {
    const type = /^(decimal|int\w*|bigint|hugeint)$/i.test(m[1]!) ? 'FIXED' : /^(double|float|real)$/i.test(m[1]!) ? 'REAL' : m[1]!.toUpperCase();
    return sfError('numericValue', `Failed to cast variant value "${m[2]}" to ${type}`);
  }
  if (/^Conversion Error: .*(date|timestamp|time)/i.test(first)) {
    const v = first.match(/"([^"]*)"/);
    return sfError('dateValue', `Date '${v ? v[1] : ''}' is not recognized`);
  }
  if (/^Conversion Error/.test(first)) return sfError('numericValue', first.replace(/^Conversion Error: /, ''));
  if (/^(Binder|Catalog) Error/.test(first)) {
    return sfError('compilation', `${COMPILE}${first.replace(/^(Binder|Catalog) Error: /, '')}`);
  }
  return sfError('execution', first.replace(/^[A-Za-z ]+ Error: /, ''));
}
