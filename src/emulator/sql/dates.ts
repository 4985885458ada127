/**
 * Snowflake's date and time functions and date parts as DuckDB expressions:
 * conversions with formats, the current date/time family, DATEADD/DATEDIFF.
 */
import { refuse } from './errors.ts';
import { isDateFormat, toStrftime } from './formats.ts';
import { asJsonText, isJsonExtract } from './json.ts';
import { cast, fn, isDateTyped, literalKind, literalString, markDate, str, tpl, type Node } from './ast.ts';

const DATE_PARTS: Record<string, string> = {
  YEAR: 'year', YEARS: 'year', Y: 'year', YY: 'year', YYY: 'year', YYYY: 'year', YR: 'year', YRS: 'year',
  QUARTER: 'quarter', QUARTERS: 'quarter', Q: 'quarter', QTR: 'quarter', QTRS: 'quarter',
  MONTH: 'month', MONTHS: 'month', MM: 'month', MON: 'month', MONS: 'month',
  WEEK: 'week', WEEKS: 'week', W: 'week', WK: 'week', WEEKOFYEAR: 'week', WOY: 'week', WY: 'week',
  DAY: 'day', DAYS: 'day', D: 'day', DD: 'day', DAYOFMONTH: 'day',
  HOUR: 'hour', HOURS: 'hour', H: 'hour', HH: 'hour', HR: 'hour', HRS: 'hour',
  MINUTE: 'minute', MINUTES: 'minute', M: 'minute', MI: 'minute', MIN: 'minute', MINS: 'minute',
  SECOND: 'second', SECONDS: 'second', S: 'second', SEC: 'second', SECS: 'second',
  MILLISECOND: 'millisecond', MILLISECONDS: 'millisecond', MS: 'millisecond', MSEC: 'millisecond',
  MICROSECOND: 'microsecond', MICROSECONDS: 'microsecond', US: 'microsecond', USEC: 'microsecond',
};

/** Date part from a DATEADD/DATEDIFF first argument (`day`, `'day'`, `"DAY"`). */
export function datePart(n: Node): string {
  const raw: string | undefined =
    n?.var?.this ?? literalString(n) ?? n?.column?.name?.name ?? n?.identifier?.name ?? (typeof n === 'string' ? n : undefined);
  const part = raw === undefined ? undefined : DATE_PARTS[raw.toUpperCase()];
  if (part === undefined) refuse(`date part ${raw ?? JSON.stringify(n).slice(0, 40)}`);
  return part;
}

const INTERVAL_FN: Record<string, [string, number]> = {
  year: ['to_years', 1],
  quarter: ['to_months', 3],
  month: ['to_months', 1],
  week: ['to_weeks', 1],
  day: ['to_days', 1],
  hour: ['to_hours', 1],
  minute: ['to_minutes', 1],
  second: ['to_seconds', 1],
  millisecond: ['to_milliseconds', 1],
  microsecond: ['to_microseconds', 1],
};

function dateAdd(partNode: Node, n: Node, x: Node): Node {
  const part = datePart(partNode);
  const [toFn, mult] = INTERVAL_FN[part]!;
  const count = mult === 1 ? n : tpl(`__A0 * ${mult}`, n);
  const intType = ['year', 'quarter', 'month', 'week', 'day'].includes(part) ? 'INTEGER' : 'BIGINT';
  const sum = tpl(`__A0 + ${toFn}(CAST(__A1 AS ${intType}))`, x, count);
  const dateOnly = ['year', 'quarter', 'month', 'week', 'day'].includes(part) && isDateTyped(x);
  return dateOnly ? cast(sum, 'DATE') : sum;
}

function dateFormatArg(n: Node, fnName: string): string {
  const s = literalString(n);
  if (s === undefined) refuse(`${fnName.toUpperCase()} with a non-literal format`);
  if (s.toUpperCase() === 'AUTO') return '';
  return toStrftime(s);
}

/**
 * The date/time function `name` (lower case) over rewritten `args`, or
 * undefined when `name` is not one of them.
 */
export function rewriteDateTimeFunction(name: string, args: Node[]): Node | undefined {
  const textOf = (x: Node): Node => (isJsonExtract(x) ? asJsonText(x) : x);
  switch (name) {
    case 'to_char':
    case 'to_varchar': {
      if (args.length === 1) return isJsonExtract(args[0]) ? asJsonText(args[0]) : cast(args[0], 'VARCHAR');
      const fmt = literalString(args[1]);
      if (fmt === undefined || !isDateFormat(fmt)) refuse(`${name.toUpperCase()} with a numeric or non-literal format`);
      return fn('strftime', args[0], str(toStrftime(fmt)));
    }
    case 'to_date':
    case 'date':
    case 'try_to_date': {
      const castFn = name === 'try_to_date' ? 'TRY_CAST' : 'CAST';
      const f2 = args.length === 1 ? '' : dateFormatArg(args[1], name);
      const p = name === 'try_to_date' ? 'try_strptime' : 'strptime';
      const out = f2 === '' ? tpl(`${castFn}(__A0 AS DATE)`, textOf(args[0])) : cast(fn(p, textOf(args[0]), str(f2)), 'DATE');
      return markDate(out);
    }
    case 'to_timestamp':
    case 'to_timestamp_ntz':
    case 'to_timestamp_ltz':
    case 'to_timestamp_tz':
    case 'try_to_timestamp':
    case 'try_to_timestamp_ntz':
    case 'try_to_timestamp_ltz':
    case 'try_to_timestamp_tz': {
      const target = /_(ltz|tz)$/.test(name) ? 'TIMESTAMPTZ' : 'TIMESTAMP';
      const tryIt = name.startsWith('try_');
      const castFn = tryIt ? 'TRY_CAST' : 'CAST';
      if (args.length === 1) {
        if (literalKind(args[0]) === 'number') {
          return cast(fn('make_timestamp', tpl('CAST(CAST(__A0 AS DOUBLE) * 1000000 AS BIGINT)', args[0])), target);
        }
        return tpl(`${castFn}(__A0 AS ${target})`, textOf(args[0]));
      }
      if (literalKind(args[1]) === 'number') refuse(`${name.toUpperCase()} with a scale argument`);
      const f2 = dateFormatArg(args[1], name);
      if (f2 === '') return tpl(`${castFn}(__A0 AS ${target})`, textOf(args[0]));
      return cast(fn(tryIt ? 'try_strptime' : 'strptime', textOf(args[0]), str(f2)), target);
    }
    case 'current_timestamp':
    case 'localtimestamp':
    case 'getdate':
    case 'systimestamp':
      if (args.length > 0) refuse(`${name.toUpperCase()} with a precision`);
      return name === 'localtimestamp' || name === 'getdate'
        ? tpl('CAST(current_timestamp AS TIMESTAMP)')
        : tpl('current_timestamp');
    case 'sysdate':
      return tpl("CAST(timezone('UTC', current_timestamp) AS TIMESTAMP)");
    case 'current_date':
      return markDate(tpl('current_date'));
    case 'current_time':
    case 'localtime':
      return tpl('CAST(current_timestamp AS TIME)');
    case 'dateadd':
    case 'timestampadd':
    case 'timeadd':
      if (args.length !== 3) refuse(`${name.toUpperCase()} with ${args.length} arguments`);
      return dateAdd(args[0], args[1], args[2]);
    case 'datediff':
    case 'timestampdiff':
    case 'timediff':
      if (args.length !== 3) refuse(`${name.toUpperCase()} with ${args.length} arguments`);
      return fn('date_diff', str(datePart(args[0])), args[1], args[2]);
    default:
      return undefined;
  }
}
