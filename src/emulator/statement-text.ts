/**
 * Small lexical helpers on statement text that the wire layer needs and the
 * SQL layer's contract does not provide: Snowflake's DDL status message, and
 * `:1`-style bind placeholders rewritten to DuckDB's `$1`.
 */

/**
 * Walk SQL text, calling `onCode` for every stretch outside string literals,
 * quoted identifiers, comments and `$$…$$` blocks; returns the re-joined text.
 */
function mapCode(sql: string, onCode: (code: string) => string): string {
  let out = '';
  let code = '';
  let i = 0;
  const flush = (): void => {
    out += onCode(code);
    code = '';
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const two = sql.slice(i, i + 2);
    let end = -1;
    if (ch === "'" || ch === '"') {
      end = i + 1;
      while (end < sql.length) {
        if (sql[end] === '\\' && ch === "'") end += 2;
        else if (sql[end] === ch && sql[end + 1] === ch) end += 2;
        else if (sql[end] === ch) break;
        else end++;
      }
      end = Math.min(end + 1, sql.length);
    } else if (two === '--') {
      const nl = sql.indexOf('\n', i);
      end = nl < 0 ? sql.length : nl;
    } else if (two === '/*') {
      const close = sql.indexOf('*/', i + 2);
      end = close < 0 ? sql.length : close + 2;
    } else if (two === '$$') {
      const close = sql.indexOf('$$', i + 2);
      end = close < 0 ? sql.length : close + 2;
    }
    if (end > i) {
      flush();
      out += sql.slice(i, end);
      i = end;
    } else {
      code += ch;
      i++;
    }
  }
  flush();
  return out;
}

/** Rewrite Snowflake `:1` bind placeholders to DuckDB `$1` (leaves `::` casts alone). */
export function rewriteNumberedBinds(sql: string): string {
  return mapCode(sql, (code) => code.replace(/(^|[^:\w]):(\d+)\b/g, '$1$$$2'));
}

function displayName(raw: string): string {
  const last = raw.split('.').pop() ?? raw;
  return last.startsWith('"') ? last.slice(1, -1).replace(/""/g, '"') : last.toUpperCase();
}

const OBJECT_KINDS: Record<string, string> = {
  TABLE: 'Table',
  VIEW: 'View',
  SCHEMA: 'Schema',
  DATABASE: 'Database',
  SEQUENCE: 'Sequence',
  STAGE: 'Stage',
  FUNCTION: 'Function',
  WAREHOUSE: 'Warehouse',
  ROLE: 'Role',
};

const IDENT = String.raw`((?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*)(?:\.(?:"(?:[^"]|"")*"|[A-Za-z_][\w$]*))*)`;
const CREATE_RE = new RegExp(
  String.raw`^\s*create\s+(?:or\s+replace\s+)?(?:(?:local|global|temporary|temp|transient|volatile|secure|materialized)\s+)*(table|view|schema|database|sequence|stage|function|warehouse|role)\s+(?:if\s+not\s+exists\s+)?` + IDENT,
  'i',
);
const DROP_RE = new RegExp(
  String.raw`^\s*drop\s+(?:materialized\s+)?(table|view|schema|database|sequence|stage|function|warehouse|role)\s+(?:if\s+exists\s+)?` + IDENT,
  'i',
);

/** Snowflake's status line for a statement that returns no rows ("Table T successfully created."). */
export function statusMessage(sql: string): string {
  const text = mapCode(sql, (c) => c).replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, '');
  const created = CREATE_RE.exec(text);
  if (created) return `${OBJECT_KINDS[created[1]!.toUpperCase()]} ${displayName(created[2]!)} successfully created.`;
  const dropped = DROP_RE.exec(text);
  if (dropped) return `${displayName(dropped[2]!)} successfully dropped.`;
  return 'Statement executed successfully.';
}
