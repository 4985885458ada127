/**
 * Where each output column comes from (for masking lineage and column
 * metadata) and the Snowflake types DuckDB cannot tell (TIMESTAMP_TZ, which
 * DuckDB stores as TIMESTAMPTZ and reads back as LTZ).
 */
import type { Node } from './ast.ts';
import { TIMESTAMP_TZ_COMMENT } from './type-map.ts';
import type { ColumnOrigin, RewriteState, TranslateContext } from './types.ts';

/** True when a select item (before rewriting) is a cast to TIMESTAMP_TZ: `::timestamp_tz`, CAST, TO_TIMESTAMP_TZ. */
function isTzCast(e: Node): boolean {
  let x = e;
  while (x?.alias) x = x.alias.this;
  const c = x?.cast ?? x?.try_cast;
  if (c) return c.to?.data_type === 'timestamp' && c.to.timezone === true;
  const f = x?.function;
  if (f && typeof f.name === 'string') return ['to_timestamp_tz', 'try_to_timestamp_tz'].includes(f.name.toLowerCase());
  return false;
}

/** Per item of the leftmost SELECT of the original statement: does it cast to TIMESTAMP_TZ? */
export function tzCastFlags(stmt: Node): boolean[] | undefined {
  const sel = stmt?.select;
  return sel ? (sel.expressions ?? []).map(isTzCast) : undefined;
}

/** A FROM/JOIN source of a SELECT, as `columnOrigins` sees it. */
interface Source {
  key: string;
  origin: ColumnOrigin | null;
  /**
   * How an unqualified `*` treats this source's columns: `'all'` keeps them,
   * `{ using }` drops the USING columns (DuckDB lists them once, at the left
   * table's position), `'natural'` drops those an earlier source also has,
   * `'unknown'` (semi/anti joins) makes the expansion unknowable.
   */
  star?: 'all' | 'natural' | 'unknown' | { using: string[] };
}

/** The rewritten SELECT's sources, in FROM then JOIN order. */
function sourcesOf(select: Node, st: RewriteState): Source[] {
  const sources: Source[] = [];
  const addSource = (n: Node, star: Source['star'] = 'all'): void => {
    const t = n?.table;
    if (t?.name && ((t.catalog && t.schema) || t.name.name.startsWith('__AIRLOCK_IS_'))) {
      const origin = t.name.name.startsWith('__AIRLOCK_IS_') ? (st.placeholderOrigins.get(t.name.name) ?? null) : { database: t.catalog.name, schema: t.schema.name, table: t.name.name };
      sources.push({ key: t.alias?.name ?? t.name.name, origin, star });
    } else if (t?.name) {
      sources.push({ key: t.alias?.name ?? t.name.name, origin: null, star });
    } else {
      const alias = n?.subquery?.alias?.name ?? n?.alias?.alias?.name;
      sources.push({ key: alias ?? '', origin: null, star });
    }
  };
  for (const f of select.from?.expressions ?? []) addSource(f);
  for (const j of select.joins ?? []) {
    const kind = String(j.kind ?? '');
    const using: Node[] = j.using ?? [];
    addSource(
      j.this,
      kind.startsWith('Natural') ? 'natural' : /Semi|Anti/.test(kind) ? 'unknown' : using.length > 0 ? { using: using.map((u) => u.name) } : 'all',
    );
  }
  return sources;
}

/** What the catalog says of a source's columns: names, and the rowtype override each needs. */
class SourceColumns {
  constructor(private readonly st: RewriteState) {}

  names(s: Source): string[] | undefined {
    const { ctx } = this.st;
    return s.origin && ctx.columnsOf ? ctx.columnsOf(s.origin.database, s.origin.schema, s.origin.table) : undefined;
  }

  /** Rowtype override per column (only a declared TIMESTAMP_TZ needs one). */
  wireTypes(s: Source): (string | null)[] | undefined {
    const { ctx } = this.st;
    const declared = s.origin && ctx.declaredTypesOf ? ctx.declaredTypesOf(s.origin.database, s.origin.schema, s.origin.table) : undefined;
    return declared?.map((d) => (d === 'TIMESTAMP_TZ' ? 'timestamp_tz' : null));
  }

  typeOf(s: Source | undefined, name: string): string | null {
    if (!s) return null;
    const k = this.names(s)?.indexOf(name) ?? -1;
    return k < 0 ? null : (this.wireTypes(s)?.[k] ?? null);
  }
}

interface Origins {
  origins: (ColumnOrigin | null)[];
  types: (string | null)[];
}

/**
 * The columns a `*` item lists, appended to `out`; false when they cannot be
 * known (a source without a catalog entry, a semi/anti join).
 */
function expandStar(star: Node, sources: Source[], columns: SourceColumns, out: Origins): boolean {
  const targets = star.table ? sources.filter((s) => s.key === star.table.name) : sources;
  if (targets.length === 0) return false;
  for (const s of targets) {
    const cols = columns.names(s);
    if (!cols) return false;
    // An unqualified `*` lists a USING / NATURAL join column once, so the
    // right-hand copies are skipped to keep origins aligned with the output.
    let hidden = new Set<string>();
    if (!star.table && s.star && s.star !== 'all') {
      if (s.star === 'unknown') return false;
      if (s.star === 'natural') {
        for (const earlier of sources.slice(0, sources.indexOf(s))) {
          const theirs = columns.names(earlier);
          if (!theirs) return false;
          for (const c of theirs) if (cols.includes(c)) hidden.add(c);
        }
      } else {
        hidden = new Set(s.star.using);
      }
    }
    const types = columns.wireTypes(s);
    for (let k = 0; k < cols.length; k++) {
      if (hidden.has(cols[k]!)) continue;
      out.origins.push(s.origin);
      out.types.push(types?.[k] ?? null);
    }
  }
  return true;
}

/** The source a column reference reads: by qualifier, the only source, or the one source having the name. */
function sourceOfColumn(c: Node, sources: Source[], columns: SourceColumns): Source | undefined {
  if (c.table) return sources.find((s) => s.key === c.table.name);
  if (sources.length === 1) return sources[0];
  const having = sources.filter((s) => columns.names(s)?.includes(c.name.name));
  return having.length === 1 ? having[0] : undefined;
}

/**
 * Where each output column of a plain SELECT comes from, and the Snowflake
 * type that overrides DuckDB's where one is known (declared TIMESTAMP_TZ
 * columns, casts to TIMESTAMP_TZ flagged in `tzFlags`).
 */
export function columnOrigins(select: Node, st: RewriteState, tzFlags: boolean[] | undefined): Origins | undefined {
  const sources = sourcesOf(select, st);
  const columns = new SourceColumns(st);
  const out: Origins = { origins: [], types: [] };
  const exprs: Node[] = select.expressions ?? [];
  for (let i = 0; i < exprs.length; i++) {
    const e = exprs[i];
    const inner = e.alias ? e.alias.this : e;
    if (e.star || inner.star) {
      if (!expandStar(e.star ?? inner.star, sources, columns, out)) return undefined;
    } else if (!inner.column) {
      out.origins.push(null);
      out.types.push(tzFlags?.[i] ? 'timestamp_tz' : null);
    } else {
      const source = sourceOfColumn(inner.column, sources, columns);
      out.origins.push(source?.origin ?? null);
      out.types.push(columns.typeOf(source, inner.column.name.name));
    }
  }
  return out;
}

/** DuckDB COMMENT statements recording the columns a CREATE TABLE / ALTER TABLE ADD COLUMN declares TIMESTAMP_TZ. */
export function declaredTypeFollowUp(original: Node, rewritten: Node, ctx: TranslateContext): string[] {
  const q = (x: string) => `"${x.replace(/"/g, '""')}"`;
  let table: Node;
  let columns: Node[];
  if (original?.create_table) {
    table = rewritten.create_table?.name;
    columns = original.create_table.columns ?? [];
    // IF NOT EXISTS on a table that exists changes nothing: leave its columns alone.
    if (original.create_table.if_not_exists && table?.catalog && ctx.columnsOf?.(table.catalog.name, table.schema.name, table.name.name)) {
      return [];
    }
  } else if (original?.alter_table) {
    table = rewritten.alter_table?.name;
    columns = (original.alter_table.actions ?? []).map((a: Node) => a?.AddColumn?.column).filter(Boolean);
  } else {
    return [];
  }
  if (!table?.catalog || !table?.schema || !table?.name) return [];
  const full = `${q(table.catalog.name)}.${q(table.schema.name)}.${q(table.name.name)}`;
  const out: string[] = [];
  for (const col of columns) {
    const dt = col?.data_type;
    // A column with its own COMMENT keeps it (and reads back as TIMESTAMP_LTZ).
    if (dt?.data_type !== 'timestamp' || dt.timezone !== true || col.comment != null || !col.name) continue;
    const name: string = col.name.quoted ? col.name.name : String(col.name.name).toUpperCase();
    out.push(`COMMENT ON COLUMN ${full}.${q(name)} IS '${TIMESTAMP_TZ_COMMENT}'`);
  }
  return out;
}
