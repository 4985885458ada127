/**
 * One statement → its {@link Analysis}: classification, AST facts, tables and
 * columns, flags, gaps, sensitive touches, EXECUTE IMMEDIATE bodies and size
 * bounds. Everything a rule can match on is computed here, once. Pure.
 *
 * The steps run in a fixed order: a statement's `flags` and `gaps` keep the
 * order they were found in, and that order shows in the decision JSON.
 */
import { classify } from './classify.ts';
import type { SensitiveTouch, StatementFacts } from './decision.ts';
import { astFacts, type AstFacts } from './facts.ts';
import { BUILT_IN_FUNCTIONS, isCrossSession, isCrossSessionFunction, isCrossSessionObject, isSystemFunction, PRESIGNED_FUNCTIONS } from './functions.ts';
import type { Classification } from './kinds.ts';
import { lex, stringValue, type LexedStatement } from './lexer.ts';
import { joinName, resolveParts, splitName, type Defaults } from './names.ts';
import { MAX_TREE_DEPTH } from './parse.ts';
import { matchesName, tableOfColumnPattern, type CompiledSensitive } from './patterns.ts';
import type { PolicyFile } from './schema.ts';
import { complexityProblem, hasTopLevelWhere, tokenFallback, tokenFlags, tokenGaps } from './tokens.ts';

/** How deep EXECUTE IMMEDIATE bodies are analysed. */
const MAX_NESTING = 3;

/** Everything known about one statement, ready for matching. */
export interface Analysis {
  index: number;
  text: string;
  cls: Classification;
  facts: StatementFacts;
  tags: Set<string>;
  flags: Set<string>;
  /** Column access as `TABLE.COLUMN` → clauses; stars as tables. */
  columnClauses: Map<string, string[]>;
  stars: string[];
  functions: string[];
  /** Analyses of EXECUTE IMMEDIATE bodies. */
  inner: Analysis[];
  /** Why the statement is too large or deep to analyse (SQL_TOO_COMPLEX), when it is. */
  tooComplex?: string;
}

/** What the analysis needs from the policy: how to resolve names, and the sensitive catalog. */
export interface AnalysisContext {
  defaults: Defaults;
  catalog: CompiledSensitive[];
}

/**
 * Where unqualified names resolve when neither the policy nor the connection
 * names a database or schema. The warehouse connection then uses these too
 * (app/adapters.ts), so what is judged is what runs.
 */
export const FALLBACK_NAMESPACE = { database: 'ANALYTICS', schema: 'PUBLIC' } as const;

/** The policy's default database and schema, upper-cased unless written `"quoted"`. */
export function defaultsOf(file: PolicyFile): Defaults {
  const defaults: Defaults = {
    database: (file.defaults.database ?? FALLBACK_NAMESPACE.database).replace(/^"|"$/g, ''),
    schema: (file.defaults.schema ?? FALLBACK_NAMESPACE.schema).replace(/^"|"$/g, ''),
  };
  if (!file.defaults.database?.startsWith('"')) defaults.database = defaults.database.toUpperCase();
  if (!file.defaults.schema?.startsWith('"')) defaults.schema = defaults.schema.toUpperCase();
  return defaults;
}

/** Analyse one statement of `source`; `depth` counts EXECUTE IMMEDIATE nesting. */
export function analyse(st: LexedStatement, source: string, depth: number, pc: AnalysisContext): Analysis {
  const cls = classify(st.tokens);
  const flags = new Set<string>(cls.flags);
  tokenFlags(st, flags);
  const tooComplex = complexityProblem(st);
  const { ast, gaps } = treeFacts(st, source, cls, tooComplex, pc.defaults);
  statementGaps(st, cls, flags, gaps);
  const names = namesOf(st, cls, ast, gaps.length > 0, pc);
  const fileShaped = names.tables.find((t) => splitName(t).some((part) => FILE_SHAPED.test(part)));
  if (fileShaped) gaps.push(`${fileShaped} is shaped like a file path, not a table`);
  if (names.unknownCall) flags.add('unknown_function');
  const functions = ast?.functions ?? [];
  objectFlags(names.tables, functions, flags);
  if (names.stars.length > 0) flags.add('select_star');
  if (gaps.length > 0) flags.add('incomplete');
  const tags = new Set(cls.tags);
  boundFlags(st, cls, ast, flags, tags);
  const inner = cls.kind === 'execute_immediate' ? executeImmediate(st, depth, gaps, flags, pc) : [];
  const facts: StatementFacts = {
    kind: cls.kind,
    verb: cls.verb,
    object: cls.object,
    tags: [...tags],
    categories: [...cls.categories],
    flags: [...flags],
    tables: names.tables,
    writes: [...new Set(names.writes)],
    columns: [...names.columnClauses.keys()],
    ...(names.objects.length > 0 ? { objects: names.objects } : {}),
    sensitive: sensitiveTouches({ columns: names.columnClauses, stars: names.stars, tables: names.tables }, pc.catalog),
    complete: gaps.length === 0,
    ...(gaps.length > 0 ? { gaps: [...new Set(gaps)] } : {}),
  };
  const tooDeep = ast?.tooComplex ? `it nests deeper than ${MAX_TREE_DEPTH} levels` : undefined;
  const complex = tooComplex ?? tooDeep ?? inner.find((x) => x.tooComplex)?.tooComplex;
  const { columnClauses, stars } = names;
  return { index: st.index, text: st.text, cls, facts, tags, flags, columnClauses, stars, functions, inner, ...(complex ? { tooComplex: complex } : {}) };
}

/**
 * A name part that is a path or a file name (slashes, a leading dot, a data-file
 * extension): no Snowflake table anyone means, and some engines (DuckDB under
 * the emulator) read it as a host file (`"/."."/."."/x.json"`, `'/etc/x'`), so a
 * statement naming one is never allowed.
 */
const FILE_SHAPED = /[/\\]|^\.|\.(csv|tsv|txt|json|jsonl|ndjson|parquet|avro|orc|xml|gz|zst|bz2|xlsx?|db|duckdb|sqlite3?|arrow|feather|log|env|pem|key|p8)$/i;

/** The parser's facts, when the statement is within bounds and the tokens alone do not explain it. */
function treeFacts(st: LexedStatement, source: string, cls: Classification, tooComplex: string | undefined, defaults: Defaults): { ast?: AstFacts; gaps: string[] } {
  if (tooComplex) return { gaps: [`the statement is too complex to analyse: ${tooComplex}`] };
  if (cls.lexicallyComplete) return { gaps: [] };
  if (cls.kind === 'explain') {
    // EXPLAIN [USING TABULAR|JSON|TEXT] <statement>: the plan of a read, nothing runs.
    const skip = st.tokens[1]?.text === 'USING' ? 3 : 1;
    const tokens = st.tokens.slice(skip);
    const inner: LexedStatement = { index: st.index, tokens, text: tokens.length > 0 ? source.slice(tokens[0]!.start, tokens.at(-1)!.end) : '' };
    const innerKind = classify(tokens).kind;
    const ast = astFacts(inner, source, innerKind, defaults);
    const gaps = [...ast.gaps];
    if (innerKind !== 'select') gaps.push(`EXPLAIN of ${innerKind.toUpperCase()}`);
    return { ast, gaps };
  }
  const ast = astFacts(st, source, cls.kind, defaults);
  return { ast, gaps: [...ast.gaps] };
}

/** Gaps the tokens show beside the tree's: `TABLE(…)`/`IDENTIFIER(…)`, DESC RESULT, hidden writes, unknown objects. */
function statementGaps(st: LexedStatement, cls: Classification, flags: Set<string>, gaps: string[]): void {
  // The token backstop adds only what the tree did not already explain.
  for (const g of tokenGaps(st)) if (!gaps.some((x) => x.startsWith(`${g.slice(0, g.indexOf('('))}(`))) gaps.push(g);
  // DESC RESULT '<query id>' describes another query's result.
  if (cls.kind === 'describe' && st.tokens[1]?.kind === 'word' && st.tokens[1].text === 'RESULT') {
    flags.add('cross_session');
    gaps.push('DESCRIBE RESULT reaches another query');
  }
  if (flags.has('hidden_write')) gaps.push('a write keyword appears inside a read');
  if (cls.flags.includes('unknown_object')) gaps.push(`an unknown object type after ${cls.verb}`);
}

interface Names {
  tables: string[];
  writes: string[];
  objects: string[];
  stars: string[];
  columnClauses: Map<string, string[]>;
  /** The token fallback saw a call of a function that is not a built-in. */
  unknownCall: boolean;
}

/** Tables, writes, other objects, stars and columns, from the tree and the tokens (all of them when incomplete). */
function namesOf(st: LexedStatement, cls: Classification, ast: AstFacts | undefined, incomplete: boolean, pc: AnalysisContext): Names {
  const tokenTargets = cls.targets.map((parts) => resolveParts(parts, pc.defaults));
  const reads = [...new Set([...(ast?.reads ?? []), ...cls.sources.map((parts) => resolveParts(parts, pc.defaults))])];
  // Token-found names are tables only for table-like objects; a DROP DATABASE names a database.
  const tableLike = cls.object === null || /(^|_)(table|view)$/.test(cls.object);
  const writes = ast?.writes.length ? ast.writes : ['create', 'alter', 'drop', 'undrop', 'truncate', 'copy'].includes(cls.kind) && tableLike ? tokenTargets : [];
  const objects = tableLike ? [] : cls.targets.map((parts) => parts.join('.').toUpperCase());
  const fallback = incomplete ? tokenFallback(st, pc.defaults) : undefined;
  const tables = [...new Set([...reads, ...writes, ...(cls.kind === 'describe' ? tokenTargets : []), ...(fallback?.tables ?? [])])];
  const columnClauses = new Map<string, string[]>();
  for (const c of ast?.columns ?? []) columnClauses.set(joinName([...splitName(c.table), c.column]), c.clauses);
  // Unexplained statements: every table they name may be read whole.
  const stars = [...new Set([...(ast?.stars ?? []), ...(fallback?.tables ?? [])])];
  if (fallback) {
    for (const entry of pc.catalog) {
      if (entry.columnPart && fallback.words.has(entry.columnPart)) {
        const owner = tables.find((t) => matchesName(tableOfColumnPattern(entry.pattern), t));
        const name = owner ? `${owner}.${entry.columnPart}` : owner === undefined && tables.length === 0 ? `*.*.*.${entry.columnPart}` : undefined;
        if (name && !columnClauses.has(name)) columnClauses.set(name, ['unparsed']);
      }
    }
  }
  return { tables, writes, objects, stars, columnClauses, unknownCall: fallback?.unknownCall ?? false };
}

/** Flags from the objects and functions the tree names: cross-session, system, presigned-URL and unknown functions. */
function objectFlags(tables: string[], functions: string[], flags: Set<string>): void {
  // Other sessions' queries, results and logins, matched by the object whatever its name's spelling.
  if (tables.some((t) => isCrossSessionObject(splitName(t)))) flags.add('cross_session');
  for (const f of functions) {
    if (isSystemFunction(f)) flags.add('system_function');
    if (isCrossSessionFunction(f)) flags.add('cross_session');
    if (PRESIGNED_FUNCTIONS.has(f)) flags.add('presigned_url');
    if (!BUILT_IN_FUNCTIONS.has(f) && !isSystemFunction(f) && !isCrossSession(f) && !PRESIGNED_FUNCTIONS.has(f)) flags.add('unknown_function');
  }
}

/** `no_where` (with its `…_without_where` tag) and `no_limit`. */
function boundFlags(st: LexedStatement, cls: Classification, ast: AstFacts | undefined, flags: Set<string>, tags: Set<string>): void {
  // Fail closed: an UPDATE/DELETE whose WHERE we could not see counts as unbounded.
  const whereSeen = ast?.hasWhere ?? (ast && !ast.complete ? hasTopLevelWhere(st) : null);
  if ((cls.kind === 'delete' || cls.kind === 'update') && whereSeen !== true) {
    flags.add('no_where');
    tags.add(`${cls.kind}_without_where`);
  }
  if (cls.kind === 'select' && ast?.hasLimit !== true) flags.add('no_limit');
}

/** EXECUTE IMMEDIATE: the body's statements, analysed as if sent directly; the statement itself stays incomplete. */
function executeImmediate(st: LexedStatement, depth: number, gaps: string[], flags: Set<string>, pc: AnalysisContext): Analysis[] {
  const inner: Analysis[] = [];
  const body = st.tokens[2];
  if (body?.kind === 'string' && depth < MAX_NESTING) {
    const innerSql = stringValue(body);
    const lexed = lex(innerSql);
    if (lexed.error) gaps.push(`the EXECUTE IMMEDIATE body has ${lexed.error.message}`);
    for (const s of lexed.statements) inner.push(analyse(s, innerSql, depth + 1, pc));
  }
  gaps.push('EXECUTE IMMEDIATE runs SQL assembled at run time');
  flags.add('incomplete');
  return inner;
}

/** The catalogued columns and tables a statement touches, and through which clauses. */
function sensitiveTouches(facts: { columns: Map<string, string[]>; stars: string[]; tables: string[] }, catalog: CompiledSensitive[]): SensitiveTouch[] {
  const out = new Map<string, SensitiveTouch>();
  const add = (name: string, type: string, via: string[]) => {
    const key = `${name}\u0000${type}`;
    const e = out.get(key);
    if (e) {
      for (const v of via) if (!e.via.includes(v)) e.via.push(v);
    } else out.set(key, { name, type, via: [...via] });
  };
  for (const entry of catalog) {
    if (entry.level === 'table') {
      for (const t of facts.tables) if (matchesName(entry.pattern, t)) add(t, entry.type, ['table']);
      continue;
    }
    for (const [col, clauses] of facts.columns) if (matchesName(entry.pattern, col)) add(col, entry.type, clauses);
    // `*` reaches a sensitive column only when the pattern names the table (`*.*.CUSTOMERS.SSN`);
    // `*.*.*.EMAIL` under `*` is left to result masking, which sees the real columns.
    if (entry.pattern.concreteTable) {
      const tablePattern = tableOfColumnPattern(entry.pattern);
      for (const t of facts.stars) {
        if (matchesName(tablePattern, t)) add(`${t}.${entry.columnPart}`, entry.type, ['star']);
      }
    }
  }
  return [...out.values()];
}
