/**
 * FROM items and table names: table names folded and fully qualified,
 * INFORMATION_SCHEMA views and samples spliced in as placeholder subqueries,
 * table literals (`TABLE('…')`, `IDENTIFIER('…')`, `TABLE(GENERATOR(…))`)
 * turned into the sources they name.
 */
import { refuse, sfError, TranslateError } from './errors.ts';
import { tokenize } from './lexer.ts';
import { foldIdent, ident, isIdentifier, literalString, placeholderName, type Node } from './ast.ts';
import type { RewriteState } from './types.ts';

/**
 * The parts of an identifier written as a string (`'db.schema."Odd name"'`),
 * as identifier nodes: unquoted parts fold to upper case later, quoted ones
 * keep their case, as Snowflake reads `TABLE('…')` and `IDENTIFIER('…')`.
 */
function identifierParts(text: string, what: string): Node[] {
  let toks: ReturnType<typeof tokenize>;
  try {
    toks = tokenize(text);
  } catch {
    return badIdentifier(text, what);
  }
  const parts: Node[] = [];
  for (let i = 0; i < toks.length; i += 2) {
    const t = toks[i]!;
    if (t.kind !== 'word' && t.kind !== 'quoted') return badIdentifier(text, what);
    parts.push({ name: t.kind === 'quoted' ? t.value : t.text, quoted: t.kind === 'quoted', trailing_comments: [], span: null });
    const sep = toks[i + 1];
    if (sep !== undefined && (sep.value !== '.' || i + 2 >= toks.length)) return badIdentifier(text, what);
  }
  if (parts.length === 0) return badIdentifier(text, what);
  return parts;
}

export function badIdentifier(text: string, what: string): never {
  throw new TranslateError(sfError('syntax', `SQL compilation error:\ninvalid identifier '${text}' in ${what}`));
}

/** The string argument of TABLE(…) / IDENTIFIER(…), or a refusal for variables and binds. */
function identifierText(args: Node[], what: string): string {
  const text = args.length === 1 ? literalString(args[0]) : undefined;
  if (text === undefined) refuse(`${what} with anything but a string literal`);
  return text;
}

/** `IDENTIFIER('ssn')` / `IDENTIFIER('c.ssn')` used as an expression: a column reference. */
export function identifierColumn(args: Node[]): Node {
  const parts = identifierParts(identifierText(args, 'IDENTIFIER()'), 'IDENTIFIER()');
  if (parts.length > 2) refuse('IDENTIFIER() naming a column with more than two parts');
  const name = foldIdent(parts[parts.length - 1]);
  const table = parts.length === 2 ? foldIdent(parts[0]) : null;
  return { column: { name, table, join_mark: false } };
}

/**
 * A FROM or JOIN item written as a table literal becomes the table reference
 * it names: `TABLE('db.s.t')`, `TABLE($$t$$)`, `IDENTIFIER('t')` (Snowflake
 * treats the two alike in FROM). `TABLE(GENERATOR(ROWCOUNT => n))` becomes a
 * derived table of n rows whose only column has a name no query uses, so a
 * column named in a subquery over it resolves to the outer query, as in
 * Snowflake (GENERATOR has no columns). Other table functions are refused.
 */
export function tableLiteral(item: Node, st: RewriteState): Node {
  const aliased = item?.alias?.this?.function ? item.alias : undefined;
  const f = aliased ? aliased.this.function : item?.function;
  if (!f) return item;
  const name = String(f.name).toUpperCase();
  if (name !== 'TABLE' && name !== 'IDENTIFIER') return item;
  const args: Node[] = f.args ?? [];
  const alias: Node = aliased?.alias ?? null;
  const inner = args.length === 1 ? args[0]?.function : undefined;
  if (name === 'TABLE' && inner) {
    if (String(inner.name).toUpperCase() !== 'GENERATOR') refuse(`table function ${String(inner.name).toUpperCase()}`);
    return generatorSource(inner.args ?? [], alias, st);
  }
  const parts = identifierParts(identifierText(args, `${name}()`), `${name}()`);
  if (parts.length > 3) badIdentifier(literalString(args[0])!, `${name}()`);
  const [catalog, schema, table] = [null, null, ...parts].slice(-3);
  return {
    table: {
      name: table, schema, catalog, alias, alias_explicit_as: aliased?.alias_explicit_as ?? false,
      column_aliases: aliased?.column_aliases ?? [], trailing_comments: [], when: null, only: false, final_: false, hints: [],
    },
  };
}

/** `GENERATOR(ROWCOUNT => n)` as a placeholder table (see {@link tableLiteral}). */
function generatorSource(args: Node[], alias: Node, st: RewriteState): Node {
  let rows: string | undefined;
  for (const a of args) {
    const na = a?.named_argument;
    const key = na ? String(na.name?.name ?? '').toUpperCase() : '';
    const v = na?.value?.literal;
    if (key === 'ROWCOUNT' && v?.literal_type === 'number' && /^\d+$/.test(String(v.value))) rows = String(v.value);
    else refuse('GENERATOR with anything but ROWCOUNT => <integer>');
  }
  if (rows === undefined) refuse('GENERATOR without ROWCOUNT');
  const ph = placeholderName('IS');
  st.placeholders.set(ph, `SELECT NULL AS "__AIRLOCK_GENERATOR_ROW" FROM range(${rows})`);
  return {
    table: {
      name: ident(ph), schema: null, catalog: null, alias: alias ?? ident('GENERATOR'), alias_explicit_as: true,
      column_aliases: [], trailing_comments: [], when: null, only: false, final_: false, hints: [],
    },
  };
}

/** Name of a FROM/JOIN item for `OBJECT_CONSTRUCT(*)`, folded; null when it has none. */
export function sourceName(item: Node): string | null {
  const fold = (i: Node): string | null => (i && typeof i.name === 'string' ? (i.quoted ? i.name : i.name.toUpperCase()) : null);
  if (item?.table) return fold(item.table.alias) ?? fold(item.table.name);
  return fold(item?.subquery?.alias) ?? fold(item?.alias?.alias);
}

export function qualifyTable(t: Node, st: RewriteState): Node {
  const name = foldIdent(t.name);
  const schema = t.schema ? foldIdent(t.schema) : null;
  const catalog = t.catalog ? foldIdent(t.catalog) : null;
  const out: Node = { ...t, name, schema, catalog };
  if (t.alias && isIdentifier(t.alias)) out.alias = foldIdent(t.alias);
  if (!schema && st.ctes.has(name.name)) return out;
  if (!schema && st.placeholders.has(name.name)) return out;
  const db = catalog?.name ?? st.ctx.database;
  const sc = schema?.name ?? st.ctx.schema;
  if (sc === 'INFORMATION_SCHEMA') {
    const sql = st.infoSchema(db, name.name);
    if (sql === undefined) refuse(`INFORMATION_SCHEMA.${name.name}`);
    const ph = placeholderName('IS');
    st.placeholders.set(ph, sql);
    return { ...out, catalog: null, schema: null, name: ident(ph), alias: out.alias ?? ident(name.name) };
  }
  if (out.when) refuse('time travel (AT/BEFORE) and CHANGES');
  out.catalog = catalog ?? ident(db);
  out.schema = schema ?? ident(sc);
  if (out.table_sample) {
    // polyglot's round trip loses the ROWS/PERCENT distinction: splice the clause in as text.
    const q = (x: string) => `"${x.replace(/"/g, '""')}"`;
    const ph = placeholderName('IS');
    st.placeholders.set(ph, `SELECT * FROM ${q(db)}.${q(sc)}.${q(name.name)} ${sampleClause(out.table_sample)}`);
    st.placeholderOrigins.set(ph, { database: db, schema: sc, table: name.name });
    return { ...out, catalog: null, schema: null, table_sample: null, name: ident(ph), alias: out.alias ?? ident(name.name) };
  }
  return out;
}

/** DuckDB TABLESAMPLE clause for a Snowflake SAMPLE/TABLESAMPLE. */
function sampleClause(s: Node): string {
  if (s.seed != null || s.offset != null) refuse('SAMPLE with SEED/REPEATABLE');
  const size = s.size?.literal?.literal_type === 'number' ? String(s.size.literal.value) : undefined;
  if (size === undefined) refuse('SAMPLE with a non-literal size');
  if (s.unit_after_size) {
    if (!/^\d+$/.test(size)) refuse(`SAMPLE (${size} ROWS)`);
    return `TABLESAMPLE reservoir(${size} ROWS)`;
  }
  const method = String(s.method ?? '').toLowerCase();
  const m = method === 'system' || method === 'block' ? 'system' : 'bernoulli';
  return `TABLESAMPLE ${m}(${size} PERCENT)`;
}
