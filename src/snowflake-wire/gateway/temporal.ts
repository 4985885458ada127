/**
 * Dates, times and timestamps from their stored text back to Snowflake's wire
 * encodings: a date is days since 1970-01-01, a time seconds since midnight,
 * a timestamp epoch seconds (9 decimals), `timestamp_tz` with
 * ` <1440 + offset minutes>`.
 *
 * The stored result holds them as the warehouse formatted them (its default
 * output formats: `YYYY-MM-DD`, `HH24:MI:SS[.FF]`, `YYYY-MM-DD HH24:MI:SS[.FF]`
 * with ` TZHTZM` for local and zoned timestamps). Only text of exactly those
 * shapes is read back; a column holding anything else stays text (see
 * rowset.ts), so a value is never guessed.
 */

/** The temporal wire types this module reads. */
export type TemporalType = 'date' | 'time' | 'timestamp_ntz' | 'timestamp_ltz' | 'timestamp_tz';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?: ?(Z|[+-]\d{2}:?\d{2}))?$/;

/** Nanoseconds as Snowflake's `seconds.fraction` (9 decimals, sign in front). */
function secondsText(ns: bigint): string {
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  return `${sign}${abs / 1_000_000_000n}.${String(abs % 1_000_000_000n).padStart(9, '0')}`;
}

/** Milliseconds since the epoch of a UTC calendar time, or undefined when a field is out of range. */
function utcMillis(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  // 2021-02-30 rolls over into March: not a date the warehouse wrote.
  return date.getUTCDate() === d ? date.getTime() : undefined;
}

const fractionNs = (digits: string | undefined) => BigInt((digits ?? '').padEnd(9, '0'));

/** Offset minutes of `Z`, `+0200`, `-07:00`; undefined when there is none. */
function offsetMinutes(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === 'Z') return 0;
  const digits = text.replace(':', '');
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  return digits.startsWith('-') ? -minutes : minutes;
}

/** The wire text of one stored temporal value, or undefined when it is not of the expected shape. */
export function temporalCell(text: string, type: TemporalType): string | undefined {
  if (type === 'date') {
    const m = DATE.exec(text);
    const ms = m ? utcMillis(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
    return ms === undefined ? undefined : String(ms / 86_400_000);
  }
  if (type === 'time') {
    const m = TIME.exec(text);
    if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3]) > 59) return undefined;
    return secondsText(BigInt((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1_000_000_000n + fractionNs(m[4]));
  }
  const m = TIMESTAMP.exec(text);
  const ms = m ? utcMillis(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : undefined;
  if (!m || ms === undefined) return undefined;
  const offset = offsetMinutes(m[8]);
  // A zoned or local timestamp must say its offset; a wall-clock one must not.
  if ((type === 'timestamp_ntz') !== (offset === undefined)) return undefined;
  const ns = BigInt(ms) * 1_000_000n + fractionNs(m[7]) - BigInt(offset ?? 0) * 60_000_000_000n;
  return type === 'timestamp_tz' ? `${secondsText(ns)} ${1440 + (offset ?? 0)}` : secondsText(ns);
}
