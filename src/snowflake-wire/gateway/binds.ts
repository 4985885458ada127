/**
 * Bind variables (`?` and `:1`) as literals in the SQL text, before Airlock
 * sees it: the policy, the approvers and the session log judge the statement
 * that will run, with its values, not a template.
 *
 * Placeholders are found with the policy's own lexer, so a `?` inside a
 * string, a quoted identifier or a comment is never replaced. Values are
 * rendered by the type the driver declared: numbers only when they are
 * numbers, booleans as TRUE/FALSE, everything else as an escaped string.
 */
import { lex } from '../../policy/lexer.ts';
import { SnowflakeWireError } from '../errors.ts';
import type { WireBinding } from '../port.ts';
import { gatewayError } from './codes.ts';

const FIXED = /^[+-]?\d+(\.\d+)?$/;
const REAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A Snowflake string literal: backslashes and quotes escaped. */
function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** One binding as SQL text. */
function literal(name: string, binding: WireBinding): string {
  const { value } = binding;
  if (Array.isArray(value)) {
    throw gatewayError('unsupported', 'UNSUPPORTED', 'array binding (one statement, many rows) is not supported through Airlock; send one statement per row.');
  }
  if (value === null || value === undefined) return 'NULL';
  const type = (binding.type ?? 'TEXT').toUpperCase();
  const text = String(value);
  if (type === 'FIXED' || type === 'REAL') {
    if (!(type === 'FIXED' ? FIXED : REAL).test(text)) {
      throw SnowflakeWireError.of('INVALID_PARAMETER_VALUE', `Bind variable ${name} is declared ${type} but its value is not a number.`);
    }
    // A signed number in parentheses: `5 - ?` with -1 must stay a subtraction, not become the comment `5 --1`.
    return /^[+-]/.test(text) ? `(${text})` : text;
  }
  if (type === 'BOOLEAN') return ['true', '1'].includes(text.toLowerCase()) ? 'TRUE' : 'FALSE';
  return stringLiteral(text);
}

/** Where the placeholders are: `?` (numbered in order) or `:N`. */
function placeholders(sql: string): Array<{ start: number; end: number; n: number }> {
  const found: Array<{ start: number; end: number; n: number }> = [];
  let positional = 0;
  for (const statement of lex(sql).statements) {
    const tokens = statement.tokens;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.kind !== 'symbol') continue;
      if (t.text === '?') found.push({ start: t.start, end: t.end, n: ++positional });
      const next = tokens[i + 1];
      const prev = tokens[i - 1];
      // `:1` right after a `:` symbol with nothing between; not the second half of a `::` cast.
      if (t.text === ':' && next?.kind === 'number' && next.start === t.end && /^\d+$/.test(next.text) && !(prev?.text === ':' && prev.end === t.start)) {
        found.push({ start: t.start, end: next.end, n: Number(next.text) });
      }
    }
  }
  return found;
}

/** The SQL with every placeholder replaced by its binding; the SQL as it is without bindings. */
export function applyBindings(sql: string, bindings: Record<string, WireBinding> | undefined): { sql: string; count: number } {
  const entries = Object.keys(bindings ?? {});
  if (!bindings || entries.length === 0) return { sql, count: 0 };
  const spots = placeholders(sql);
  let out = sql;
  for (const spot of [...spots].reverse()) {
    const binding = bindings[String(spot.n)];
    if (!binding) throw SnowflakeWireError.of('BIND_MISMATCH', `Bind variable ${spot.n} has no value.`);
    out = out.slice(0, spot.start) + literal(String(spot.n), binding) + out.slice(spot.end);
  }
  const used = new Set(spots.map((s) => String(s.n)));
  if (entries.some((k) => !used.has(k))) throw SnowflakeWireError.of('BIND_MISMATCH');
  return { sql: out, count: entries.length };
}
