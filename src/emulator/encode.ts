/**
 * DuckDB result columns and values → Snowflake `rowtype` entries and `rowset`
 * strings, in the encodings snowflake-sdk parses (DESIGN §4):
 * fixed → decimal string, real → number string, boolean → "1"/"0",
 * date → days since epoch, time/timestamp_ntz/ltz → epoch seconds with 9
 * decimals, timestamp_tz → "secs.frac 1440+offsetMinutes", binary → upper-case
 * hex, variant/object/array → JSON text.
 *
 * Encoders are built once per column and applied per value, so a large result
 * costs one closure call per cell. One file (just over 400 lines): one encoder
 * per Snowflake type family, side by side with the rowtype each one pairs with.
 */
import type { Cell, WireColumn } from '../snowflake-wire/port.ts';
import {
  DuckDBTypeId,
  type DuckDBBlobValue,
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBListValue,
  type DuckDBArrayValue,
  type DuckDBMapValue,
  type DuckDBStructValue,
  type DuckDBTimeNSValue,
  type DuckDBTimeTZValue,
  type DuckDBTimeValue,
  type DuckDBTimestampMillisecondsValue,
  type DuckDBTimestampNanosecondsValue,
  type DuckDBTimestampSecondsValue,
  type DuckDBTimestampTZValue,
  type DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBUnionValue,
  type DuckDBValue,
  type DuckDBVariantValue,
} from '@duckdb/node-api';
import type { ColumnOrigin, SyntheticColumn } from './sql/types.ts';

/** Snowflake logical type names as they appear in `rowtype[].type`. */
export type SnowflakeType =
  | 'fixed'
  | 'real'
  | 'text'
  | 'binary'
  | 'boolean'
  | 'date'
  | 'time'
  | 'timestamp_ntz'
  | 'timestamp_ltz'
  | 'timestamp_tz'
  | 'variant'
  | 'object'
  | 'array';

/** One entry of a query response's `rowtype`, with the types DuckDB results map to. */
export interface RowTypeColumn extends WireColumn {
  type: SnowflakeType;
}

export type { Cell };

/** Turns one DuckDB value of a known column type into its rowset string. */
export type ValueEncoder = (value: DuckDBValue) => Cell;

const MAX_TEXT = 16_777_216;
const MAX_BINARY = 8_388_608;
/** Fractional digits of every time/timestamp column: DuckDB keeps micro-, sometimes nanoseconds. */
const TIME_SCALE = 9;

/** Rowtype + encoder for one DuckDB column. */
export interface ColumnCodec {
  rowType: RowTypeColumn;
  encode: ValueEncoder;
}

/**
 * Build the rowtype entry and value encoder of one DuckDB result column.
 * `override` is the SQL layer's `columnTypes` entry: `'timestamp_tz'` turns a
 * DuckDB TIMESTAMPTZ column (otherwise TIMESTAMP_LTZ) into TIMESTAMP_TZ, whose
 * values carry the offset of `timeZone` (the session's TIMEZONE) at each instant.
 */
export function columnCodec(
  name: string,
  type: DuckDBType,
  origin: ColumnOrigin | null | undefined,
  override?: string | null,
  timeZone = 'UTC',
): ColumnCodec {
  const tz = override === 'timestamp_tz' && type.typeId === DuckDBTypeId.TIMESTAMP_TZ;
  const { sfType, precision, scale } = tz ? { sfType: 'timestamp_tz' as const, precision: 0, scale: TIME_SCALE } : snowflakeTypeOf(type);
  const isText = sfType === 'text' || sfType === 'variant' || sfType === 'object' || sfType === 'array';
  return {
    rowType: {
      name,
      database: origin?.database ?? '',
      schema: origin?.schema ?? '',
      table: origin?.table ?? '',
      type: sfType,
      precision,
      scale,
      length: isText ? MAX_TEXT : sfType === 'binary' ? MAX_BINARY : null,
      byteLength: isText ? MAX_TEXT : sfType === 'binary' ? MAX_BINARY : null,
      nullable: true,
      collation: null,
    },
    encode: tz ? timestampTzEncoder(timeZone) : valueEncoder(type),
  };
}

/**
 * TIMESTAMP_TZ cells `"secs.fraction 1440+offsetMinutes"` for DuckDB
 * TIMESTAMPTZ values. DuckDB keeps only the instant, so the offset is the one
 * `timeZone` has at that instant (UTC → 1440): the instant is exact, the
 * original offset is not kept.
 */
function timestampTzEncoder(timeZone: string): ValueEncoder {
  const offsetAt = offsetFinder(timeZone);
  return (v) => {
    if (v === null) return null;
    const micros = (v as DuckDBTimestampTZValue).micros;
    return `${scaledText(micros, 6)} ${1440 + offsetAt(micros)}`;
  };
}

/** Minutes east of UTC of an IANA zone at an instant (in microseconds); 0 for UTC and unknown zones. */
function offsetFinder(timeZone: string): (micros: bigint) => number {
  if (/^(?:utc|gmt|z|etc\/utc|etc\/gmt|utc0|gmt0)$/i.test(timeZone.trim())) return () => 0;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  } catch {
    return () => 0;
  }
  return (micros) => {
    const ms = Number(micros / 1000n);
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return 0;
    const part = format.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? '';
    const m = /([+-])(\d{1,2})(?::?(\d{2}))?/.exec(part);
    return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0;
  };
}

function snowflakeTypeOf(type: DuckDBType): { sfType: SnowflakeType; precision: number | null; scale: number | null } {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { sfType: 'boolean', precision: null, scale: null };
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      // Snowflake integers are NUMBER(38,0).
      return { sfType: 'fixed', precision: 38, scale: 0 };
    case DuckDBTypeId.DECIMAL:
      return { sfType: 'fixed', precision: type.width, scale: type.scale };
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return { sfType: 'real', precision: null, scale: null };
    case DuckDBTypeId.VARCHAR:
      return { sfType: type.alias?.toUpperCase() === 'JSON' ? 'variant' : 'text', precision: null, scale: null };
    case DuckDBTypeId.BLOB:
      return { sfType: 'binary', precision: null, scale: null };
    case DuckDBTypeId.DATE:
      return { sfType: 'date', precision: null, scale: null };
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
    case DuckDBTypeId.TIME_TZ:
      return { sfType: 'time', precision: 0, scale: TIME_SCALE };
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return { sfType: 'timestamp_ntz', precision: 0, scale: TIME_SCALE };
    case DuckDBTypeId.TIMESTAMP_TZ:
      // DuckDB's TIMESTAMPTZ is an instant shown in the session time zone: Snowflake's TIMESTAMP_LTZ.
      return { sfType: 'timestamp_ltz', precision: 0, scale: TIME_SCALE };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return { sfType: 'array', precision: null, scale: null };
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
      return { sfType: 'object', precision: null, scale: null };
    case DuckDBTypeId.VARIANT:
    case DuckDBTypeId.UNION:
      return { sfType: 'variant', precision: null, scale: null };
    default:
      // UUID, INTERVAL, ENUM, BIT, SQLNULL, GEOMETRY…: shown as text.
      return { sfType: 'text', precision: null, scale: null };
  }
}

function valueEncoder(type: DuckDBType): ValueEncoder {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return (v) => (v === null ? null : v ? '1' : '0');
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return (v) => (v === null ? null : realText(v as number));
    case DuckDBTypeId.DECIMAL:
      return (v) => (v === null ? null : (v as DuckDBDecimalValue).toString());
    case DuckDBTypeId.VARCHAR:
      return (v) => (v === null ? null : (v as string));
    case DuckDBTypeId.BLOB:
      return (v) => (v === null ? null : hex((v as DuckDBBlobValue).bytes));
    case DuckDBTypeId.DATE:
      return (v) => (v === null ? null : String((v as DuckDBDateValue).days));
    case DuckDBTypeId.TIME:
      return (v) => (v === null ? null : scaledText((v as DuckDBTimeValue).micros, 6));
    case DuckDBTypeId.TIME_NS:
      return (v) => (v === null ? null : scaledText((v as DuckDBTimeNSValue).nanos, 9));
    case DuckDBTypeId.TIME_TZ:
      return (v) => (v === null ? null : scaledText((v as DuckDBTimeTZValue).micros, 6));
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return (v) => (v === null ? null : scaledText((v as DuckDBTimestampValue | DuckDBTimestampTZValue).micros, 6));
    case DuckDBTypeId.TIMESTAMP_S:
      return (v) => (v === null ? null : scaledText((v as DuckDBTimestampSecondsValue).seconds, 0));
    case DuckDBTypeId.TIMESTAMP_MS:
      return (v) => (v === null ? null : scaledText((v as DuckDBTimestampMillisecondsValue).millis, 3));
    case DuckDBTypeId.TIMESTAMP_NS:
      return (v) => (v === null ? null : scaledText((v as DuckDBTimestampNanosecondsValue).nanos, 9));
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
    case DuckDBTypeId.VARIANT:
    case DuckDBTypeId.UNION: {
      const json = jsonEncoder(type);
      return (v) => (v === null ? null : json(v));
    }
    case DuckDBTypeId.SQLNULL:
      return () => null;
    default:
      return (v) => (v === null ? null : String(v));
  }
}

/** A number as the driver's `Number(raw)` reads it back, including the non-finite ones. */
function realText(n: number): string {
  if (Number.isFinite(n)) return String(n);
  if (Number.isNaN(n)) return 'NaN';
  return n > 0 ? 'Infinity' : '-Infinity';
}

/**
 * A count of 10^-digits units (e.g. microseconds since the epoch) as a decimal
 * number of seconds with exactly 9 fractional digits, sign included.
 */
export function scaledText(units: bigint, digits: number): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const unit = 10n ** BigInt(digits);
  const whole = abs / unit;
  const frac = digits === 0 ? '' : (abs % unit).toString().padStart(digits, '0');
  return `${negative ? '-' : ''}${whole}.${(`${frac}000000000`).slice(0, TIME_SCALE)}`;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

/** JSON text for a nested value, driven by its DuckDB type (so JSON-typed strings stay JSON). */
function jsonEncoder(type: DuckDBType): (value: DuckDBValue) => string {
  switch (type.typeId) {
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const item = jsonEncoder(type.valueType);
      return (v) => (v === null ? 'null' : `[${(v as DuckDBListValue | DuckDBArrayValue).items.map(item).join(',')}]`);
    }
    case DuckDBTypeId.STRUCT: {
      const entries = type.entryNames.map((name, i) => ({ key: JSON.stringify(name), enc: jsonEncoder(type.entryTypes[i]!) }));
      return (v) => {
        if (v === null) return 'null';
        const values = (v as DuckDBStructValue).entries;
        const names = type.entryNames;
        return `{${entries.map((e, i) => `${e.key}:${e.enc(values[names[i]!] ?? null)}`).join(',')}}`;
      };
    }
    case DuckDBTypeId.MAP: {
      const val = jsonEncoder(type.valueType);
      return (v) =>
        v === null
          ? 'null'
          : `{${(v as DuckDBMapValue).entries.map((e) => `${JSON.stringify(keyText(e.key))}:${val(e.value)}`).join(',')}}`;
    }
    case DuckDBTypeId.VARCHAR:
      if (type.alias?.toUpperCase() === 'JSON') return (v) => (v === null ? 'null' : (v as string));
      return (v) => (v === null ? 'null' : JSON.stringify(v));
    default:
      return genericJson;
  }
}

function keyText(key: DuckDBValue): string {
  return typeof key === 'string' ? key : key === null ? 'null' : String(key);
}

/** JSON text for a value whose type is only known at run time (VARIANT, UNION members). */
function genericJson(v: DuckDBValue): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return Number.isFinite(v) ? String(v) : JSON.stringify(realText(v));
    case 'bigint':
      return v.toString();
    case 'string':
      return JSON.stringify(v);
  }
  const obj = v as object;
  if ('items' in obj) return `[${(obj as DuckDBListValue).items.map(genericJson).join(',')}]`;
  if ('entries' in obj) {
    const entries = (obj as DuckDBStructValue | DuckDBMapValue).entries;
    if (Array.isArray(entries)) {
      return `{${(entries as DuckDBMapValue['entries']).map((e) => `${JSON.stringify(keyText(e.key))}:${genericJson(e.value)}`).join(',')}}`;
    }
    return `{${Object.entries(entries as Record<string, DuckDBValue>)
      .map(([k, x]) => `${JSON.stringify(k)}:${genericJson(x)}`)
      .join(',')}}`;
  }
  if ('tag' in obj && 'value' in obj) return genericJson((obj as DuckDBUnionValue).value);
  if ('value' in obj && 'type' in obj) return genericJson((obj as DuckDBVariantValue).value);
  if ('width' in obj && 'scale' in obj) return (obj as DuckDBDecimalValue).toString();
  if ('bytes' in obj) return JSON.stringify(hex((obj as DuckDBBlobValue).bytes));
  return JSON.stringify(String(obj));
}

/** Rowtype of a synthesized (non-DuckDB) result column. */
export function syntheticRowType(col: SyntheticColumn): RowTypeColumn {
  const sfType = col.type.toLowerCase() as SnowflakeType;
  const isTime = sfType === 'time' || sfType.startsWith('timestamp');
  const isText = sfType === 'text' || sfType === 'variant' || sfType === 'object' || sfType === 'array';
  return {
    name: col.name,
    database: '',
    schema: '',
    table: '',
    type: sfType,
    precision: sfType === 'fixed' ? (col.precision ?? 38) : isTime ? 0 : null,
    scale: sfType === 'fixed' ? (col.scale ?? 0) : isTime ? TIME_SCALE : null,
    length: isText ? MAX_TEXT : sfType === 'binary' ? MAX_BINARY : null,
    byteLength: isText ? MAX_TEXT : sfType === 'binary' ? MAX_BINARY : null,
    nullable: true,
    collation: null,
  };
}

/**
 * Encode a JS value of a synthesized result. Accepted inputs: fixed/real →
 * number, bigint or numeric string; boolean → boolean; date → Date or
 * 'YYYY-MM-DD'; time → 'HH:MM:SS[.fff]'; timestamps → Date or ISO string
 * (timestamp_tz keeps a trailing ±HH:MM offset); binary → Uint8Array or hex;
 * variant/object/array → any JSON-serializable value; text → String(value).
 */
export function encodeJsValue(type: SnowflakeType, value: unknown): Cell {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'boolean':
      return value === true || value === 'true' || value === 1 ? '1' : '0';
    case 'fixed':
      return typeof value === 'number' || typeof value === 'bigint' ? value.toString() : String(value);
    case 'real':
      return typeof value === 'number' ? realText(value) : String(value);
    case 'binary':
      return value instanceof Uint8Array ? hex(value) : String(value).toUpperCase();
    case 'date': {
      const ms = value instanceof Date ? value.getTime() : Date.parse(`${String(value).slice(0, 10)}T00:00:00Z`);
      return String(Math.floor(ms / 86_400_000));
    }
    case 'time': {
      const m = /^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/.exec(String(value));
      if (!m) return String(value);
      const secs = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
      return `${secs}.${(m[4] ?? '').padEnd(TIME_SCALE, '0')}`;
    }
    case 'timestamp_ntz':
    case 'timestamp_ltz':
    case 'timestamp_tz': {
      const text = value instanceof Date ? value.toISOString() : String(value);
      const ms = value instanceof Date ? value.getTime() : Date.parse(text);
      const secs = scaledText(BigInt(ms), 3);
      if (type !== 'timestamp_tz') return secs;
      const off = /([+-])(\d{2}):?(\d{2})$/.exec(text);
      const minutes = off ? (off[1] === '-' ? -1 : 1) * (Number(off[2]) * 60 + Number(off[3])) : 0;
      return `${secs} ${1440 + minutes}`;
    }
    case 'variant':
    case 'object':
    case 'array':
      return JSON.stringify(value);
    default:
      return String(value);
  }
}
