/**
 * The policy engine: SQL → per-statement facts → rules → one decision. Pure.
 *
 * Every rule whose `match` holds (and whose `unless` does not) applies; per
 * statement the strictest action wins (deny > review > allow), and a request is
 * as strict as its strictest statement. Statements the analysis could not fully
 * explain are never allowed, whatever the rules say (DESIGN §6: fail closed).
 */
import { classify, type Classification } from './classify.ts';
import { higher, stricter, type Action, type Decision, type Reason, type Risk, type SensitiveTouch, type StatementFacts } from './decision.ts';
import { astFacts, joinName, MAX_TREE_DEPTH, splitName, type AstFacts, type Defaults } from './facts.ts';
import { codeFor, kindCode, riskOfCode, type CodeEvidence, type ReasonCode } from './codes.ts';
import type { Flag } from './flags.ts';
import {
  BUILT_IN_FUNCTIONS,
  HARMLESS_TABLE_FUNCTIONS,
  isCrossSession,
  isCrossSessionFunction,
  isCrossSessionObject,
  isSystemFunction,
  PRESIGNED_FUNCTIONS,
} from './functions.ts';
import { fingerprintOf, identifierName, lex, stringValue, type LexedStatement } from './lexer.ts';
import { LruCache } from './lru.ts';
import { durationSeconds, patternParts, type Match, type ParsedPolicy, type Rule } from './schema.ts';

/** Who is asking; rules can match on it. */
export interface EvaluationContext {
  agent?: string;
  groups?: readonly string[];
}

export interface PolicyEngine {
  /** The policy version (sha256 of its canonical form). */
  readonly version: string;
  /** Decide for `sql`. With the cache on, the decision is deeply frozen (shared between callers). */
  evaluate(sql: string, ctx?: EvaluationContext): Decision;
}

export interface EngineOptions {
  /** Decisions kept in the LRU cache; 0 disables it. Default 10,000. */
  cacheSize?: number;
}

const DEFAULT_EXPIRY_SECONDS = 3600;
/** How deep EXECUTE IMMEDIATE bodies are analysed. */
const MAX_NESTING = 3;

/**
 * Size bounds of one statement, checked on its tokens before the parser runs:
 * past them the request is refused with SQL_TOO_COMPLEX (a 4xx, nothing runs)
 * instead of costing seconds of parsing or the stack. Tree depth is bounded in
 * facts.ts ({@link MAX_TREE_DEPTH}).
 */
export const COMPLEXITY_LIMITS = { tokens: 50_000, parenDepth: 200, setOperations: 500 } as const;

/** Everything known about one statement, ready for matching. */
interface Analysis {
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

// ---------------------------------------------------------------- patterns

type PartMatcher = (name: string) => boolean;

function partMatcher(part: string): PartMatcher {
  if (part === '*') return () => true;
  const text = part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part;
  // Names are compared upper-cased (see facts.ts): over-matching fails closed.
  const upper = text.toUpperCase();
  if (!upper.includes('*')) return (name) => name === upper;
  const re = new RegExp(`^${upper.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (name) => re.test(name);
}

/** A compiled `DB.SCHEMA.TABLE[.COLUMN]` pattern; `concreteTable` when the TABLE part has no wildcard. */
interface NamePattern {
  source: string;
  parts: PartMatcher[];
  concreteTable: boolean;
}

function compilePattern(p: string): NamePattern {
  const parts = patternParts(p);
  return { source: p, parts: parts.map(partMatcher), concreteTable: parts[2] !== undefined && !parts[2].includes('*') };
}

/** Resolved names quote parts that hold dots (`ANALYTICS.PUBLIC."A.B C".SSN`), so they split back exactly. */
const matchesName = (pattern: NamePattern, name: string): boolean => {
  const parts = splitName(name);
  return parts.length === pattern.parts.length && pattern.parts.every((m, i) => m(parts[i]!));
};

const tableOfColumnPattern = (p: NamePattern) => ({ ...p, parts: p.parts.slice(0, 3) });

interface CompiledSensitive {
  pattern: NamePattern;
  type: string;
  level: 'column' | 'table';
  /** The COLUMN part as a name part (for `*` and token matches), when it has no wildcard. */
  columnPart?: string;
}

interface CompiledMatch {
  raw: Match;
  tables?: NamePattern[];
  columns?: NamePattern[];
  functions?: PartMatcher[];
}

interface CompiledRule {
  rule: Rule;
  match: CompiledMatch;
  unless?: CompiledMatch;
}

function compileMatch(m: Match): CompiledMatch {
  return {
    raw: m,
    ...(m.tables ? { tables: m.tables.map(compilePattern) } : {}),
    ...(m.columns ? { columns: m.columns.map(compilePattern) } : {}),
    ...(m.functions ? { functions: m.functions.map((f) => partMatcher(f)) } : {}),
  };
}

function columnPartOf(pattern: string): { columnPart?: string } {
  const last = patternParts(pattern)[3];
  if (!last || last.includes('*')) return {};
  const name = last.startsWith('"') ? last.slice(1, -1).replace(/""/g, '"') : last;
  return { columnPart: joinName([name]) };
}

/**
 * The sensitive catalog as lookups, for result masking: the type of a resolved
 * column (DATABASE.SCHEMA.TABLE.COLUMN) or of a table, first matching entry wins.
 */
export interface CatalogLookup {
  /** The type of a resolved column, DATABASE.SCHEMA.TABLE.COLUMN. */
  column(name: string): string | undefined;
  /** The type of a sensitive table, DATABASE.SCHEMA.TABLE. */
  table(name: string): string | undefined;
  /** The type of the first catalogued column the table may have (a pattern with a wildcard table counts). */
  anyColumn(table: string): string | undefined;
}

export function catalogLookup(sensitive: ParsedPolicy['file']['sensitive']): CatalogLookup {
  const entries = sensitive.map((s) =>
    'column' in s ? { pattern: compilePattern(s.column), type: s.type, level: 'column' as const } : { pattern: compilePattern(s.table), type: s.type, level: 'table' as const },
  );
  return {
    column: (name) => entries.find((e) => e.level === 'column' && matchesName(e.pattern, name))?.type,
    table: (name) => entries.find((e) => e.level === 'table' && matchesName(e.pattern, name))?.type,
    anyColumn: (table) => entries.find((e) => e.level === 'column' && matchesName(tableOfColumnPattern(e.pattern), table))?.type,
  };
}

// ---------------------------------------------------------------- analysis

/** Words after which a name is a table: the fallback for statements the parser cannot read. */
const TABLE_INTRODUCERS = new Set(['FROM', 'JOIN', 'INTO', 'UPDATE', 'TABLE', 'USING']);
/** Words followed by `(` that are not function calls. */
const NOT_FUNCTIONS = new Set([
  'IN', 'EXISTS', 'VALUES', 'OVER', 'AS', 'FROM', 'JOIN', 'USING', 'SAMPLE', 'TABLESAMPLE', 'AT', 'BEFORE', 'CHANGES',
  'INTO', 'TABLE', 'AND', 'OR', 'NOT', 'ON', 'WHERE', 'SELECT', 'WITH', 'LATERAL', 'PARTITION', 'BY', 'ANY', 'ALL',
  'SOME', 'EXCLUDE', 'RENAME', 'REPLACE', 'MATCH_RECOGNIZE', 'PIVOT', 'UNPIVOT', 'FOR', 'WITHIN', 'GROUP', 'IDENTIFIER',
  'CLUSTER', 'FILE_FORMAT', 'RECURSIVE', 'FILTER', 'QUALIFY', 'HAVING', 'THEN', 'ELSE', 'WHEN', 'CASE', 'LIMIT', 'TOP',
  'VIEW', 'FUNCTION', 'PROCEDURE', 'RETURNS', 'ARRAY', 'OBJECT', 'NUMBER', 'DECIMAL', 'VARCHAR', 'CHAR', 'STRING', 'TIMESTAMP',
]);

/**
 * What the tokens say when the parser could not: tables named after FROM/JOIN/…,
 * names that equal catalogued sensitive columns, calls of unknown functions.
 * Only used for incomplete statements, which are never allowed; it keeps their
 * reasons informative for the reviewer.
 */
function tokenFallback(st: LexedStatement, d: Defaults): { tables: string[]; words: Set<string>; unknownCall: boolean } {
  const toks = st.tokens;
  const tables: string[] = [];
  const words = new Set<string>();
  let unknownCall = false;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'word' && t.kind !== 'quoted') continue;
    words.add(joinName([identifierName(t)]));
    if (t.kind === 'word' && TABLE_INTRODUCERS.has(t.text)) {
      let j = i + 1;
      if (toks[j]?.kind === 'word' && ['TABLE', 'LATERAL', 'ONLY'].includes(toks[j]!.text)) j++;
      const parts: string[] = [];
      while (toks[j] && (toks[j]!.kind === 'word' || toks[j]!.kind === 'quoted')) {
        parts.push(identifierName(toks[j]!));
        if (toks[j + 1]?.text !== '.') break;
        j += 2;
      }
      if (parts.length > 0 && toks[j + 1]?.text !== '(') tables.push(resolveParts(parts, d));
    }
    if (t.kind === 'word' && toks[i + 1]?.text === '(' && !NOT_FUNCTIONS.has(t.text) && toks[i - 1]?.text !== '.') {
      if (!BUILT_IN_FUNCTIONS.has(t.text) && !isSystemFunction(t.text) && !isCrossSession(t.text) && !PRESIGNED_FUNCTIONS.has(t.text)) unknownCall = true;
    }
    // `db.sch.fn(…)`: a qualified call is always a UDF or an external function.
    if (toks[i + 1]?.text === '.' && toks[i + 3]?.text === '(' && i + 2 < toks.length && toks[i + 2]!.kind === 'word' && !TABLE_INTRODUCERS.has(toks[i - 1]?.text ?? '')) {
      unknownCall = true;
    }
  }
  return { tables: [...new Set(tables)], words, unknownCall };
}

/** True when a top-level WHERE appears in the statement (for writes the parser could not read). */
function hasTopLevelWhere(st: LexedStatement): boolean {
  let depth = 0;
  for (const t of st.tokens) {
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && t.kind === 'word' && t.text === 'WHERE') return true;
  }
  return false;
}

/** Why a statement is past {@link COMPLEXITY_LIMITS}, or undefined. */
function complexityProblem(st: LexedStatement): string | undefined {
  const toks = st.tokens;
  if (toks.length > COMPLEXITY_LIMITS.tokens) return `it has ${toks.length} tokens (at most ${COMPLEXITY_LIMITS.tokens})`;
  let depth = 0;
  let setOps = 0;
  for (const t of toks) {
    if (t.text === '(' && ++depth > COMPLEXITY_LIMITS.parenDepth) return `parentheses nest deeper than ${COMPLEXITY_LIMITS.parenDepth} levels`;
    if (t.text === ')') depth--;
    if (t.kind === 'word' && (t.text === 'UNION' || t.text === 'EXCEPT' || t.text === 'MINUS' || t.text === 'INTERSECT') && ++setOps >= COMPLEXITY_LIMITS.setOperations) {
      return `it combines more than ${COMPLEXITY_LIMITS.setOperations} queries with UNION/EXCEPT/INTERSECT`;
    }
  }
  return undefined;
}

/**
 * Object references the tokens show that the tree may not: `IDENTIFIER(…)`
 * anywhere, and `TABLE(…)` around anything but a harmless table function. A
 * backstop for the AST walk (facts.ts), so a spelling the parser reads
 * differently still leaves the statement incomplete.
 */
function tokenGaps(st: LexedStatement): string[] {
  const gaps: string[] = [];
  const toks = st.tokens;
  for (let i = 0; i + 1 < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'word' || toks[i + 1]!.text !== '(') continue;
    if (t.text === 'IDENTIFIER') gaps.push('IDENTIFIER(…) names an object by a string Airlock does not resolve');
    if (t.text === 'TABLE') {
      const next = toks[i + 2];
      const harmless = next?.kind === 'word' && HARMLESS_TABLE_FUNCTIONS.has(next.text) && toks[i + 3]?.text === '(';
      if (!harmless) gaps.push('TABLE(…) reads rows Airlock cannot resolve to a known table');
    }
  }
  return gaps;
}

function tokenFlags(st: LexedStatement, flags: Set<string>): void {
  const toks = st.tokens;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'word' && t.kind !== 'quoted') {
      // `@stage`, `@~`, `@%table`: a stage reference.
      if (t.text === '@') flags.add('stage_reference');
      continue;
    }
    const name = identifierName(t).toUpperCase();
    // Quoted names resolve case-sensitively, but flagging the lower-case spelling too fails closed.
    if (isCrossSession(name)) flags.add('cross_session');
    // A call of any …HISTORY… table function (COPY_HISTORY(…), TASK_HISTORY(…)), parsed or not.
    if (toks[i + 1]?.text === '(' && isCrossSessionFunction(name)) flags.add('cross_session');
    if (isSystemFunction(name)) flags.add('system_function');
    if (PRESIGNED_FUNCTIONS.has(name)) flags.add('presigned_url');
  }
}

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

// ---------------------------------------------------------------- engine

/** Build an engine for a validated policy. */
export function createPolicyEngine(policy: ParsedPolicy, options: EngineOptions = {}): PolicyEngine {
  const file = policy.file;
  const defaults: Defaults = {
    database: (file.defaults.database ?? 'ANALYTICS').replace(/^"|"$/g, ''),
    schema: (file.defaults.schema ?? 'PUBLIC').replace(/^"|"$/g, ''),
  };
  if (!file.defaults.database?.startsWith('"')) defaults.database = defaults.database.toUpperCase();
  if (!file.defaults.schema?.startsWith('"')) defaults.schema = defaults.schema.toUpperCase();
  const rules: CompiledRule[] = file.rules.map((rule) => ({
    rule,
    match: compileMatch(rule.match),
    ...(rule.unless ? { unless: compileMatch(rule.unless) } : {}),
  }));
  const catalog: CompiledSensitive[] = file.sensitive.map((s) =>
    'column' in s
      ? { pattern: compilePattern(s.column), type: s.type, level: 'column' as const, ...columnPartOf(s.column) }
      : { pattern: compilePattern(s.table), type: s.type, level: 'table' as const },
  );
  const cacheSize = options.cacheSize ?? 10_000;
  const cache = cacheSize > 0 ? new LruCache<string, Decision>(cacheSize) : undefined;

  function analyse(st: LexedStatement, source: string, depth: number): Analysis {
    const cls = classify(st.tokens);
    const flags = new Set<string>(cls.flags);
    tokenFlags(st, flags);
    let ast: AstFacts | undefined;
    const gaps: string[] = [];
    const tooComplex = complexityProblem(st);
    if (tooComplex) {
      gaps.push(`the statement is too complex to analyse: ${tooComplex}`);
    } else if (cls.lexicallyComplete) {
      ast = undefined;
    } else if (cls.kind === 'explain') {
      // EXPLAIN [USING TABULAR|JSON|TEXT] <statement>: the plan of a read, nothing runs.
      const skip = st.tokens[1]?.text === 'USING' ? 3 : 1;
      const tokens = st.tokens.slice(skip);
      const inner: LexedStatement = { index: st.index, tokens, text: tokens.length > 0 ? source.slice(tokens[0]!.start, tokens.at(-1)!.end) : '' };
      const innerKind = classify(tokens).kind;
      ast = astFacts(inner, source, innerKind, defaults);
      gaps.push(...ast.gaps);
      if (innerKind !== 'select') gaps.push(`EXPLAIN of ${innerKind.toUpperCase()}`);
    } else {
      ast = astFacts(st, source, cls.kind, defaults);
      gaps.push(...ast.gaps);
    }
    // The token backstop adds only what the tree did not already explain.
    for (const g of tokenGaps(st)) if (!gaps.some((x) => x.startsWith(g.slice(0, g.indexOf('(')) + '('))) gaps.push(g);
    // DESC RESULT '<query id>' describes another query's result.
    if (cls.kind === 'describe' && st.tokens[1]?.kind === 'word' && st.tokens[1].text === 'RESULT') {
      flags.add('cross_session');
      gaps.push('DESCRIBE RESULT reaches another query');
    }
    if (flags.has('hidden_write')) gaps.push('a write keyword appears inside a read');
    if (cls.flags.includes('unknown_object')) gaps.push(`an unknown object type after ${cls.verb}`);
    const tokenTargets = cls.targets.map((parts) => resolveParts(parts, defaults));
    const reads = [...new Set([...(ast?.reads ?? []), ...cls.sources.map((parts) => resolveParts(parts, defaults))])];
    // Token-found names are tables only for table-like objects; a DROP DATABASE names a database.
    const tableLike = cls.object === null || /(^|_)(table|view)$/.test(cls.object);
    const writes = ast?.writes.length ? ast.writes : ['create', 'alter', 'drop', 'undrop', 'truncate', 'copy'].includes(cls.kind) && tableLike ? tokenTargets : [];
    const objects = tableLike ? [] : cls.targets.map((parts) => parts.join('.').toUpperCase());
    const fallback = gaps.length > 0 ? tokenFallback(st, defaults) : undefined;
    const tables = [...new Set([...reads, ...writes, ...(cls.kind === 'describe' ? tokenTargets : []), ...(fallback?.tables ?? [])])];
    const columnClauses = new Map<string, string[]>();
    for (const c of ast?.columns ?? []) columnClauses.set(joinName([...splitName(c.table), c.column]), c.clauses);
    // Unexplained statements: every table they name may be read whole.
    const stars = [...new Set([...(ast?.stars ?? []), ...(fallback?.tables ?? [])])];
    if (fallback) {
      for (const entry of catalog) {
        if (entry.columnPart && fallback.words.has(entry.columnPart)) {
          const owner = tables.find((t) => matchesName(tableOfColumnPattern(entry.pattern), t));
          const name = owner ? `${owner}.${entry.columnPart}` : owner === undefined && tables.length === 0 ? `*.*.*.${entry.columnPart}` : undefined;
          if (name && !columnClauses.has(name)) columnClauses.set(name, ['unparsed']);
        }
      }
      if (fallback.unknownCall) flags.add('unknown_function');
    }
    const functions = ast?.functions ?? [];
    // Other sessions' queries, results and logins, matched by the object whatever its name's spelling.
    if (tables.some((t) => isCrossSessionObject(splitName(t)))) flags.add('cross_session');
    for (const f of functions) {
      if (isSystemFunction(f)) flags.add('system_function');
      if (isCrossSessionFunction(f)) flags.add('cross_session');
      if (PRESIGNED_FUNCTIONS.has(f)) flags.add('presigned_url');
      if (!BUILT_IN_FUNCTIONS.has(f) && !isSystemFunction(f) && !isCrossSession(f) && !PRESIGNED_FUNCTIONS.has(f)) flags.add('unknown_function');
    }
    if (stars.length > 0) flags.add('select_star');
    const complete = gaps.length === 0;
    if (!complete) flags.add('incomplete');
    const tags = new Set(cls.tags);
    // Fail closed: an UPDATE/DELETE whose WHERE we could not see counts as unbounded.
    const whereSeen = ast?.hasWhere ?? (ast && !ast.complete ? hasTopLevelWhere(st) : null);
    if ((cls.kind === 'delete' || cls.kind === 'update') && whereSeen !== true) {
      flags.add('no_where');
      tags.add(`${cls.kind}_without_where`);
    }
    if (cls.kind === 'select' && ast?.hasLimit !== true) flags.add('no_limit');
    const inner: Analysis[] = [];
    if (cls.kind === 'execute_immediate') {
      const body = st.tokens[2];
      if (body?.kind === 'string' && depth < MAX_NESTING) {
        const innerSql = stringValue(body);
        const lexed = lex(innerSql);
        if (lexed.error) gaps.push(`the EXECUTE IMMEDIATE body has ${lexed.error.message}`);
        for (const s of lexed.statements) inner.push(analyse(s, innerSql, depth + 1));
      }
      gaps.push('EXECUTE IMMEDIATE runs SQL assembled at run time');
      flags.add('incomplete');
    }
    const sens = sensitiveTouches({ columns: columnClauses, stars, tables }, catalog);
    const facts: StatementFacts = {
      kind: cls.kind,
      verb: cls.verb,
      object: cls.object,
      tags: [...tags],
      categories: [...cls.categories],
      flags: [...flags],
      tables,
      writes: [...new Set(writes)],
      columns: [...columnClauses.keys()],
      ...(objects.length > 0 ? { objects } : {}),
      sensitive: sens,
      complete: gaps.length === 0,
      ...(gaps.length > 0 ? { gaps: [...new Set(gaps)] } : {}),
    };
    const tooDeep = ast?.tooComplex ? `it nests deeper than ${MAX_TREE_DEPTH} levels` : undefined;
    const complex = tooComplex ?? tooDeep ?? inner.find((x) => x.tooComplex)?.tooComplex;
    return { index: st.index, text: st.text, cls, facts, tags, flags, columnClauses, stars, functions, inner, ...(complex ? { tooComplex: complex } : {}) };
  }

  /** Does `m` hold for `a`? Returns the evidence (for the reason), or undefined. */
  function holds(m: CompiledMatch, a: Analysis, ctx: EvaluationContext): Evidence | undefined {
    const r = m.raw;
    const ev: Evidence = {};
    if (r.kind && !r.kind.some((k) => a.tags.has(k))) return undefined;
    if (r.kind) ev.kind = r.kind.find((k) => a.tags.has(k))!;
    if (r.category) {
      const hit = r.category.find((c) => a.cls.categories.includes(c as never));
      if (!hit) return undefined;
      ev.category = hit;
    }
    if (r.flags) {
      const hit = r.flags.find((f) => a.flags.has(f));
      if (!hit) return undefined;
      ev.flag = hit as Flag;
    }
    if (r.incomplete !== undefined) {
      if (r.incomplete !== !a.facts.complete) return undefined;
      if (r.incomplete) ev.incomplete = true;
    }
    if (r.no_limit) {
      if (!a.flags.has('no_limit')) return undefined;
      ev.flag ??= 'no_limit';
    }
    if (r.tables) {
      const hit = a.facts.tables.find((t) => m.tables!.some((p) => matchesName(p, t)));
      if (!hit) return undefined;
      ev.table = hit;
    }
    if (r.columns) {
      const hit = [...a.columnClauses.keys()].find((c) => m.columns!.some((p) => matchesName(p, c)));
      if (!hit) return undefined;
      ev.column = hit;
    }
    if (r.touches) {
      const types = r.touches === 'sensitive' ? undefined : new Set<string>(r.touches);
      const hits = (a.facts.sensitive ?? []).filter((s) => !types || types.has(s.type));
      if (hits.length === 0) return undefined;
      ev.sensitive = hits;
    }
    if (r.functions) {
      const hit = a.functions.find((f) => m.functions!.some((p) => p(f)));
      if (!hit) return undefined;
      ev.fn = hit;
    }
    if (r.agents && !(ctx.agent && r.agents.includes(ctx.agent))) return undefined;
    if (r.agent_groups && !r.agent_groups.some((g) => ctx.groups?.includes(g))) return undefined;
    return ev;
  }

  function reasonsFor(cr: CompiledRule, ev: Evidence, a: Analysis, statementIndex: number, prefix: string): Reason[] {
    const rule = cr.rule;
    const base = { statement: statementIndex, rule: rule.name };
    const what = `${prefix}${describe(a)}`;
    const why = rule.message ?? (rule.description ? `${rule.description.replace(/\.$/, '')} (rule "${rule.name}").` : `matches rule "${rule.name}".`);
    if (ev.sensitive) {
      return ev.sensitive.map((s) => {
        const isTable = s.via.includes('table');
        const code = rule.code ?? (isTable ? 'SENSITIVE_TABLE' : 'SENSITIVE_COLUMN');
        const where = isTable
          ? ''
          : s.via.includes('unparsed')
            ? ' (named in the text of a statement Airlock could not parse)'
            : s.via.includes('star')
              ? ' through *'
              : ` in ${s.via.map((v) => v.replace('_', ' ').toUpperCase()).join(', ')}`;
        const column = isTable ? undefined : s.name;
        const table = isTable ? s.name : s.name.split('.').slice(0, 3).join('.');
        return {
          ...base,
          code,
          message: `${what} ${isTable ? 'touches sensitive table' : 'references sensitive column'} ${s.name} (${s.type})${where}${rule.message ? `: ${rule.message}` : ` (rule "${rule.name}").`}`,
          table,
          ...(column ? { column } : {}),
        };
      });
    }
    const code = rule.code ?? codeFor(ev, a);
    const table = ev.table ?? ev.column?.split('.').slice(0, 3).join('.') ?? a.facts.writes?.[0] ?? a.facts.tables[0];
    return [{ ...base, code, message: `${what}: ${why}`, ...(table ? { table } : {}), ...(ev.column ? { column: ev.column } : {}) }];
  }

  interface StatementVerdict {
    action: Action;
    risk: Risk;
    reasons: Reason[];
    approvals: Array<{ required: number; from: string[]; expires: number }>;
    maxRows?: number;
  }

  function decideStatement(a: Analysis, ctx: EvaluationContext, index: number, prefix: string): StatementVerdict {
    const matched: Array<{ cr: CompiledRule; ev: Evidence }> = [];
    for (const cr of rules) {
      const ev = holds(cr.match, a, ctx);
      if (!ev) continue;
      if (cr.unless && holds(cr.unless, a, ctx)) continue;
      matched.push({ cr, ev });
    }
    let action: Action = matched.length === 0 ? file.defaults.action : 'allow';
    for (const m of matched) action = stricter(action, m.cr.rule.action);
    let reasons: Reason[] = [];
    let risk: Risk = 'low';
    const approvals: StatementVerdict['approvals'] = [];
    let maxRows = file.defaults.max_rows;
    for (const { cr, ev } of matched) {
      if (cr.rule.max_rows !== undefined) maxRows = maxRows === undefined ? cr.rule.max_rows : Math.min(maxRows, cr.rule.max_rows);
      if (cr.rule.action !== action) continue;
      const rs = reasonsFor(cr, ev, a, index, prefix);
      reasons.push(...rs);
      for (const r of rs) risk = higher(risk, cr.rule.risk ?? riskOfCode(r.code) ?? 'medium');
      if (action === 'review') {
        const ap = cr.rule.approvals;
        const d = file.defaults.approvals;
        approvals.push({
          required: ap?.required ?? d.required,
          from: ap?.from ?? d.from ?? [],
          expires: durationSeconds(ap?.expires_after ?? d.expires_after ?? DEFAULT_EXPIRY_SECONDS),
        });
      }
    }
    if (matched.length === 0) {
      const code = kindCode(a);
      reasons.push({ statement: index, code, message: `${prefix}${describe(a)}: no policy rule matches, so the default action "${action}" applies.` });
      risk = higher(risk, action === 'allow' ? 'low' : (riskOfCode(code) ?? 'medium'));
      if (action === 'review') {
        const d = file.defaults.approvals;
        approvals.push({ required: d.required, from: d.from ?? [], expires: durationSeconds(d.expires_after ?? DEFAULT_EXPIRY_SECONDS) });
      }
    }
    if (!a.facts.complete) {
      // Never allowed; the verb still sets how severe the review is.
      const verbRisk = riskOfCode(kindCode(a)) ?? 'high';
      risk = higher(risk, higher('high', verbRisk));
      if (action === 'allow') {
        action = 'review';
        reasons = [];
        const d = file.defaults.approvals;
        approvals.push({ required: d.required, from: d.from ?? [], expires: durationSeconds(d.expires_after ?? DEFAULT_EXPIRY_SECONDS) });
      }
      if (!reasons.some((r) => r.code === 'INCOMPLETE_ANALYSIS')) {
        reasons.push({
          statement: index,
          code: 'INCOMPLETE_ANALYSIS',
          message: `${prefix}${describe(a)} could not be fully analysed (${(a.facts.gaps ?? []).join('; ')}), so it is never allowed without review.`,
        });
      }
    }
    if (a.flags.has('drop_container') && action !== 'allow') risk = 'critical';
    // EXECUTE IMMEDIATE: the body's statements count as if sent directly.
    for (const inner of a.inner) {
      const v = decideStatement(inner, ctx, index, `${prefix}${describe(a)} → `);
      if (stricter(action, v.action) !== action) {
        action = v.action;
        reasons = reasons.filter((r) => r.code === 'INCOMPLETE_ANALYSIS');
        approvals.length = 0;
      }
      if (v.action === action) {
        reasons.push(...v.reasons);
        approvals.push(...v.approvals);
      }
      risk = higher(risk, v.risk);
    }
    return { action, risk, reasons, approvals, ...(maxRows !== undefined ? { maxRows } : {}) };
  }

  function decide(sql: string, ctx: EvaluationContext): Decision {
    const lexed = lex(sql);
    const fingerprint = fingerprintOf(lexed.statements);
    const policyInfo = { ...(file.name ? { name: file.name } : {}), version: policy.version };
    const refuse = (code: ReasonCode, message: string, statements: StatementFacts[] = []): Decision => ({
      action: 'deny',
      risk: 'high',
      reasons: [{ code, message, statement: 0 }],
      approvals: { required: 0, groups: [] },
      statements,
      fingerprint,
      complete: false,
      policy: policyInfo,
    });
    if (lexed.error) return refuse('SQL_UNPARSEABLE', `The SQL has ${lexed.error.message} at character ${lexed.error.offset + 1}.`);
    if (lexed.statements.length === 0) return refuse('SQL_EMPTY', 'There is no SQL statement to run (only whitespace or comments).');
    const analyses = lexed.statements.map((st) => analyse(st, sql, 0));
    const complex = analyses.find((a) => a.tooComplex);
    if (complex) {
      return refuse(
        'SQL_TOO_COMPLEX',
        `Statement ${complex.index + 1} is too complex for Airlock to analyse (${complex.tooComplex}); split it into smaller statements.`,
        analyses.map((a) => a.facts),
      );
    }
    let action: Action = 'allow';
    let risk: Risk = 'low';
    const reasons: Reason[] = [];
    const verdicts = analyses.map((a) => decideStatement(a, ctx, a.index, analyses.length > 1 ? `Statement ${a.index + 1}: ` : ''));
    for (const v of verdicts) action = stricter(action, v.action);
    if (analyses.length > 1) action = stricter(action, file.multi_statement);
    for (const v of verdicts) {
      risk = higher(risk, v.risk);
      if (v.action === action) reasons.push(...v.reasons);
    }
    if (analyses.length > 1) {
      reasons.push({
        statement: 0,
        code: 'MULTI_STATEMENT',
        message: `The request holds ${analyses.length} statements; it is as strict as its strictest statement${file.multi_statement !== 'allow' ? ` and at least "${file.multi_statement}"` : ''}.`,
      });
      if (action !== 'allow') risk = higher(risk, 'medium');
      if (action === 'review' && !verdicts.some((v) => v.action === 'review')) {
        const d = file.defaults.approvals;
        verdicts.push({ action: 'review', risk: 'medium', reasons: [], approvals: [{ required: d.required, from: d.from ?? [], expires: durationSeconds(d.expires_after ?? DEFAULT_EXPIRY_SECONDS) }] });
      }
    }
    const approvalsAll = action === 'review' ? verdicts.filter((v) => v.action === 'review').flatMap((v) => v.approvals) : [];
    const approvals: Decision['approvals'] =
      action === 'review'
        ? {
            required: Math.max(1, ...approvalsAll.map((x) => x.required)),
            groups: [...new Set(approvalsAll.flatMap((x) => x.from))],
            expiresInSeconds: Math.min(...approvalsAll.map((x) => x.expires), DEFAULT_EXPIRY_SECONDS * 24),
          }
        : { required: 0, groups: [] };
    const rowCaps = verdicts.map((v) => v.maxRows).filter((x): x is number => x !== undefined);
    const complete = analyses.every((a) => a.facts.complete);
    return {
      action,
      risk: action === 'allow' ? risk : higher(risk, 'medium'),
      reasons: dedupe(reasons),
      approvals,
      statements: analyses.map((a) => a.facts),
      fingerprint,
      complete,
      ...(rowCaps.length > 0 ? { limits: { maxRows: Math.min(...rowCaps) } } : {}),
      policy: policyInfo,
    };
  }

  return {
    version: policy.version,
    evaluate(sql: string, ctx: EvaluationContext = {}): Decision {
      if (!cache) return decide(sql, ctx);
      const key = `${ctx.agent ?? ''}\u0000${[...(ctx.groups ?? [])].sort().join(',')}\u0000${sql}`;
      const hit = cache.get(key);
      if (hit) return hit;
      // Frozen, so a cached decision can be handed out without copying and never changed by a caller.
      const d = deepFreeze(decide(sql, ctx));
      cache.set(key, d);
      return d;
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

interface Evidence extends CodeEvidence {
  sensitive?: SensitiveTouch[];
}

function resolveParts(parts: string[], d: Defaults): string {
  if (parts.length >= 3) return joinName(parts.slice(-3));
  if (parts.length === 2) return joinName([d.database, parts[0]!, parts[1]!]);
  return joinName([d.database, d.schema, parts[0]!]);
}

/** A short description: `DROP TABLE ANALYTICS.PUBLIC.CUSTOMERS`, `SELECT on ANALYTICS.PUBLIC.ORDERS`. */
function describe(a: Analysis): string {
  const verb = a.cls.verb ?? 'Statement';
  const obj = a.cls.object && ['create', 'alter', 'drop', 'undrop', 'use'].includes(a.cls.kind) ? ` ${a.cls.object.replace(/_/g, ' ').toUpperCase()}` : '';
  const tables = a.facts.writes?.length ? a.facts.writes : a.facts.objects?.length ? a.facts.objects : a.facts.tables;
  const named = tables.length > 0 ? ` ${tables.slice(0, 3).join(', ')}${tables.length > 3 ? ` and ${tables.length - 3} more` : ''}` : '';
  const on = obj ? named : named ? ` on${named}` : '';
  return `${verb === 'WITH' ? a.cls.kind.toUpperCase() : verb}${obj}${on}`;
}

function dedupe(reasons: Reason[]): Reason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const key = `${r.statement}|${r.code}|${r.rule ?? ''}|${r.table ?? ''}|${r.column ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

