/**
 * Rules against analyses: which rules hold for a statement, the reasons they
 * give, the statement's verdict, and the verdicts combined into one decision.
 * Pure.
 *
 * Every rule whose `match` holds (and whose `unless` does not) applies; per
 * statement the strictest action wins (deny > review > allow), and a request is
 * as strict as its strictest statement. Statements the analysis could not fully
 * explain are never allowed, whatever the rules say (DESIGN §6: fail closed).
 */
import type { Analysis } from './analyse.ts';
import { codeFor, kindCode, riskOfCode, type CodeEvidence } from './codes.ts';
import { higher, stricter, type Action, type Decision, type Reason, type Risk, type SensitiveTouch } from './decision.ts';
import type { Flag } from './flags.ts';
import { compilePattern, matchesName, partMatcher, type NamePattern, type PartMatcher } from './patterns.ts';
import { durationSeconds, type Match, type PolicyFile, type Rule } from './schema.ts';

/** Who is asking; rules can match on it. */
export interface EvaluationContext {
  agent?: string;
  groups?: readonly string[];
}

/** How long a review waits when neither the rule nor the defaults say. */
const DEFAULT_EXPIRY_SECONDS = 3600;

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

/** A policy file's rules, compiled once per engine. */
export interface RuleSet {
  file: PolicyFile;
  rules: CompiledRule[];
}

function compileMatch(m: Match): CompiledMatch {
  return {
    raw: m,
    ...(m.tables ? { tables: m.tables.map(compilePattern) } : {}),
    ...(m.columns ? { columns: m.columns.map(compilePattern) } : {}),
    ...(m.functions ? { functions: m.functions.map((f) => partMatcher(f)) } : {}),
  };
}

/** Compile a policy file's rules for matching. */
export function compileRules(file: PolicyFile): RuleSet {
  const rules = file.rules.map((rule) => ({
    rule,
    match: compileMatch(rule.match),
    ...(rule.unless ? { unless: compileMatch(rule.unless) } : {}),
  }));
  return { file, rules };
}

/** What a match held on, for the reason's code and text. */
interface Evidence extends CodeEvidence {
  sensitive?: SensitiveTouch[];
}

/** Does `m` hold for `a`? Returns the evidence (for the reason), or undefined. */
function holds(m: CompiledMatch, a: Analysis, ctx: EvaluationContext): Evidence | undefined {
  const r = m.raw;
  const ev: Evidence = {};
  if (r.kind && !r.kind.some((k) => a.tags.has(k))) return undefined;
  if (r.kind) ev.kind = r.kind.find((k) => a.tags.has(k))!;
  if (r.category) {
    const hit = r.category.find((c) => (a.cls.categories as readonly string[]).includes(c));
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

/** One statement's decision before the request's statements are combined. */
interface StatementVerdict {
  action: Action;
  risk: Risk;
  reasons: Reason[];
  approvals: Array<{ required: number; from: string[]; expires: number }>;
  maxRows?: number;
}

/** The approvals a review asks for: the rule's own, else the policy's defaults. */
function approvalOf(ap: Rule['approvals'], d: PolicyFile['defaults']['approvals']): StatementVerdict['approvals'][number] {
  return {
    required: ap?.required ?? d.required,
    from: ap?.from ?? d.from ?? [],
    expires: durationSeconds(ap?.expires_after ?? d.expires_after ?? DEFAULT_EXPIRY_SECONDS),
  };
}

/** The verdict for one statement (and the EXECUTE IMMEDIATE bodies inside it). */
export function decideStatement(rs: RuleSet, a: Analysis, ctx: EvaluationContext, index: number, prefix: string): StatementVerdict {
  const v = ruleVerdict(rs, a, ctx, index, prefix);
  if (!a.facts.complete) failClosed(rs.file, v, a, index, prefix);
  if (a.flags.has('drop_container') && v.action !== 'allow') v.risk = 'critical';
  // EXECUTE IMMEDIATE: the body's statements count as if sent directly.
  for (const inner of a.inner) {
    const iv = decideStatement(rs, inner, ctx, index, `${prefix}${describe(a)} → `);
    if (stricter(v.action, iv.action) !== v.action) {
      v.action = iv.action;
      v.reasons = v.reasons.filter((r) => r.code === 'INCOMPLETE_ANALYSIS');
      v.approvals.length = 0;
    }
    if (iv.action === v.action) {
      v.reasons.push(...iv.reasons);
      v.approvals.push(...iv.approvals);
    }
    v.risk = higher(v.risk, iv.risk);
  }
  return v;
}

/** What the rules that hold say, or the default action when none does. */
function ruleVerdict(rs: RuleSet, a: Analysis, ctx: EvaluationContext, index: number, prefix: string): StatementVerdict {
  const { file } = rs;
  const matched: Array<{ cr: CompiledRule; ev: Evidence }> = [];
  for (const cr of rs.rules) {
    const ev = holds(cr.match, a, ctx);
    if (!ev) continue;
    if (cr.unless && holds(cr.unless, a, ctx)) continue;
    matched.push({ cr, ev });
  }
  let action: Action = matched.length === 0 ? file.defaults.action : 'allow';
  for (const m of matched) action = stricter(action, m.cr.rule.action);
  const reasons: Reason[] = [];
  let risk: Risk = 'low';
  const approvals: StatementVerdict['approvals'] = [];
  let maxRows = file.defaults.max_rows;
  for (const { cr, ev } of matched) {
    if (cr.rule.max_rows !== undefined) maxRows = maxRows === undefined ? cr.rule.max_rows : Math.min(maxRows, cr.rule.max_rows);
    if (cr.rule.action !== action) continue;
    const rsn = reasonsFor(cr, ev, a, index, prefix);
    reasons.push(...rsn);
    for (const r of rsn) risk = higher(risk, cr.rule.risk ?? riskOfCode(r.code) ?? 'medium');
    if (action === 'review') approvals.push(approvalOf(cr.rule.approvals, file.defaults.approvals));
  }
  if (matched.length === 0) {
    const code = kindCode(a);
    reasons.push({ statement: index, code, message: `${prefix}${describe(a)}: no policy rule matches, so the default action "${action}" applies.` });
    risk = higher(risk, action === 'allow' ? 'low' : (riskOfCode(code) ?? 'medium'));
    if (action === 'review') approvals.push(approvalOf(undefined, file.defaults.approvals));
  }
  return { action, risk, reasons, approvals, ...(maxRows !== undefined ? { maxRows } : {}) };
}

/** An incomplete statement is never allowed: at least a review, at least high risk, and INCOMPLETE_ANALYSIS says why. */
function failClosed(file: PolicyFile, v: StatementVerdict, a: Analysis, index: number, prefix: string): void {
  // The verb still sets how severe the review is.
  const verbRisk = riskOfCode(kindCode(a)) ?? 'high';
  v.risk = higher(v.risk, higher('high', verbRisk));
  if (v.action === 'allow') {
    v.action = 'review';
    v.reasons = [];
    v.approvals.push(approvalOf(undefined, file.defaults.approvals));
  }
  if (!v.reasons.some((r) => r.code === 'INCOMPLETE_ANALYSIS')) {
    v.reasons.push({
      statement: index,
      code: 'INCOMPLETE_ANALYSIS',
      message: `${prefix}${describe(a)} could not be fully analysed (${(a.facts.gaps ?? []).join('; ')}), so it is never allowed without review.`,
    });
  }
}

/**
 * The request's decision from its statements' verdicts: as strict as the
 * strictest statement (and at least `multi_statement` when there are several);
 * the reasons and approvals of the statements that set the action.
 */
export function combine(file: PolicyFile, analyses: Analysis[], verdicts: StatementVerdict[]): Pick<Decision, 'action' | 'risk' | 'reasons' | 'approvals' | 'complete' | 'limits'> {
  let action: Action = 'allow';
  let risk: Risk = 'low';
  const reasons: Reason[] = [];
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
      verdicts.push({ action: 'review', risk: 'medium', reasons: [], approvals: [approvalOf(undefined, file.defaults.approvals)] });
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
  return {
    action,
    risk: action === 'allow' ? risk : higher(risk, 'medium'),
    reasons: dedupe(reasons),
    approvals,
    complete: analyses.every((a) => a.facts.complete),
    ...(rowCaps.length > 0 ? { limits: { maxRows: Math.min(...rowCaps) } } : {}),
  };
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
