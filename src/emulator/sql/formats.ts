/**
 * Snowflake date/time format strings (`YYYY-MM-DD HH24:MI:SS`) → DuckDB
 * strftime/strptime patterns (`%Y-%m-%d %H:%M:%S`).
 */
import { refuse } from './errors.ts';

/** Longest element first, so `MMMM` wins over `MM` and `HH24` over `HH`. */
const ELEMENTS: [string, string][] = [
  ['YYYY', '%Y'],
  ['MMMM', '%B'],
  ['HH24', '%H'],
  ['HH12', '%I'],
  ['TZH:TZM', '%z'],
  ['TZHTZM', '%z'],
  ['FF9', '%n'],
  ['FF6', '%f'],
  ['FF3', '%g'],
  ['MON', '%b'],
  ['DY', '%a'],
  ['YY', '%y'],
  ['MM', '%m'],
  ['DD', '%d'],
  ['HH', '%H'],
  ['MI', '%M'],
  ['SS', '%S'],
  ['AM', '%p'],
  ['PM', '%p'],
  ['FF', '%n'],
];

/** True when the format looks like a date/time format rather than a numeric one. */
export function isDateFormat(fmt: string): boolean {
  return /YYYY|YY|MM|DD|HH|MI|SS|MON|DY/i.test(fmt);
}

/** Convert a Snowflake date/time format to a DuckDB strftime pattern; refuse what has no equivalent. */
export function toStrftime(fmt: string): string {
  let out = '';
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i]!;
    if (c === '"') {
      const close = fmt.indexOf('"', i + 1);
      if (close < 0) refuse(`date format ${fmt}`);
      out += fmt.slice(i + 1, close).replace(/%/g, '%%');
      i = close + 1;
      continue;
    }
    const rest = fmt.slice(i).toUpperCase();
    const hit = ELEMENTS.find(([el]) => rest.startsWith(el));
    if (hit) {
      out += hit[1];
      i += hit[0].length;
      continue;
    }
    if (/[A-Za-z]/.test(c)) refuse(`date format element '${fmt.slice(i)}' in '${fmt}'`);
    out += c === '%' ? '%%' : c;
    i++;
  }
  return out;
}
