/**
 * Session parameters: the output formats snowflake-sdk needs with every result,
 * parameters a client sets at login (`SESSION_PARAMETERS`) or with
 * `ALTER SESSION SET/UNSET`, and per-statement overrides.
 *
 * `ALTER SESSION` is handled here, not in the SQL layer, because the
 * translation contract has no channel for parameter changes and the wire layer
 * acts on some of them (STATEMENT_TIMEOUT_IN_SECONDS, TIMEZONE).
 */
import { SnowflakeWireError } from '../snowflake-wire/errors.ts';
import type { ParamValue } from '../snowflake-wire/parameters.ts';

/** Parameters whose value must be a non-negative integer. */
const INTEGER_PARAMS = new Set(['STATEMENT_TIMEOUT_IN_SECONDS', 'CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY', 'QUERY_CONTEXT_CACHE_SIZE']);

/** A parsed `ALTER SESSION` statement. */
export type AlterSession = { op: 'set'; values: Record<string, ParamValue> } | { op: 'unset'; names: string[] };

/** Normalize and validate one parameter (name upper-cased); throws 002018 on a bad value. */
export function normalizeParam(name: string, value: unknown): [string, ParamValue] {
  const key = name.toUpperCase();
  if (INTEGER_PARAMS.has(key)) {
    const n = typeof value === 'number' ? value : Number(String(value));
    if (!Number.isInteger(n) || n < 0) {
      throw SnowflakeWireError.of('INVALID_PARAMETER_VALUE', `Invalid value [${String(value)}] for parameter '${key}'`);
    }
    return [key, n];
  }
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return [key, value];
  return [key, String(value)];
}

/**
 * Recognize `ALTER SESSION SET a = 1, b = 'x'` and `ALTER SESSION UNSET a, b`.
 * Returns undefined for any other statement.
 */
export function parseAlterSession(sql: string): AlterSession | undefined {
  const text = sql.trim().replace(/;\s*$/, '');
  const head = /^alter\s+session\s+(set|unset)\s+/i.exec(text);
  if (!head) return undefined;
  const rest = text.slice(head[0].length);
  if (head[1]!.toLowerCase() === 'unset') {
    return { op: 'unset', names: rest.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean) };
  }
  const values: Record<string, ParamValue> = {};
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^']|'')*'|[^,\s]+)\s*(?:,|$)/y;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(rest))) {
    const raw = m[2]!;
    const value: ParamValue = raw.startsWith("'")
      ? raw.slice(1, -1).replace(/''/g, "'")
      : /^(true|false)$/i.test(raw)
        ? raw.toLowerCase() === 'true'
        : /^-?\d+(\.\d+)?$/.test(raw)
          ? Number(raw)
          : raw;
    const [k, v] = normalizeParam(m[1]!, value);
    values[k] = v;
    consumed = re.lastIndex;
    if (consumed >= rest.length) break;
  }
  if (consumed < rest.trimEnd().length || Object.keys(values).length === 0) return undefined;
  return { op: 'set', values };
}
