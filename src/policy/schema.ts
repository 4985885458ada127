/**
 * The policy file (YAML): schema, validation with a path on every problem, and
 * compilation into the form the engine evaluates. Public contract, documented in
 * docs/policy.md. Pure: takes text, returns a policy or every error found.
 */
import { createHash } from 'node:crypto';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { CATEGORIES, knownKindTags } from './kinds.ts';
import { FLAGS } from './flags.ts';

export const ACTIONS = ['allow', 'review', 'deny'] as const;
export const RISKS = ['low', 'medium', 'high', 'critical'] as const;

/** Semantic types of sensitive data; shared with the masking engine. */
export const SENSITIVE_TYPES = [
  'ssn', 'email', 'card', 'phone', 'name', 'address', 'dob', 'salary', 'free_text', 'ip', 'iban',
  'secret', 'restricted', 'pii',
] as const;

const KIND_TAGS = knownKindTags();

/** `DB.SCHEMA.TABLE` with `*` allowed in any part; `"quoted"` parts keep case. */
const patternPart = /^(\*|"(?:[^"]|"")+"|[A-Za-z_$][A-Za-z0-9_$]*|[A-Za-z_$*][A-Za-z0-9_$*]*)$/;
function splitPattern(p: string): string[] | undefined {
  const parts: string[] = [];
  let i = 0;
  while (i <= p.length) {
    if (p[i] === '"') {
      let j = i + 1;
      while (j < p.length && !(p[j] === '"' && p[j + 1] !== '"')) j += p[j] === '"' ? 2 : 1;
      parts.push(p.slice(i, j + 1));
      i = j + 1;
    } else {
      const dot = p.indexOf('.', i);
      const end = dot < 0 ? p.length : dot;
      parts.push(p.slice(i, end));
      i = end;
    }
    if (i >= p.length) break;
    if (p[i] !== '.') return undefined;
    i++;
  }
  return parts.every((x) => patternPart.test(x)) ? parts : undefined;
}

const objectPattern = (size: number, what: string) =>
  z.string().superRefine((p, ctx) => {
    const parts = splitPattern(p);
    if (!parts || parts.length !== size) {
      ctx.addIssue({
        code: 'custom',
        message: `"${p}" is not a ${what} pattern; write ${size === 3 ? 'DATABASE.SCHEMA.TABLE' : 'DATABASE.SCHEMA.TABLE.COLUMN'} with * for any part`,
      });
    }
  });

const tablePattern = objectPattern(3, 'table');
const columnPattern = objectPattern(4, 'column');

const duration = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+\s*(s|m|h|d)$/, 'a duration like "90s", "30m", "1h" or "2d" (or a number of seconds)'),
]);

const listOf = <T extends z.ZodTypeAny>(item: T) => z.union([item, z.array(item).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

const kindName = z.string().superRefine((k, ctx) => {
  if (!KIND_TAGS.has(k)) ctx.addIssue({ code: 'custom', message: `unknown kind "${k}"` });
});
const categoryName = z.string().superRefine((k, ctx) => {
  if (!(CATEGORIES as readonly string[]).includes(k)) {
    ctx.addIssue({ code: 'custom', message: `unknown category "${k}"; one of ${CATEGORIES.join(', ')}` });
  }
});
const flagName = z.string().superRefine((k, ctx) => {
  if (!(FLAGS as readonly string[]).includes(k)) ctx.addIssue({ code: 'custom', message: `unknown flag "${k}"; one of ${FLAGS.join(', ')}` });
});
const sensitiveType = z.enum(SENSITIVE_TYPES, { error: () => `unknown sensitive type; one of ${SENSITIVE_TYPES.join(', ')}` });

const matchSchema = z
  .strictObject({
    kind: listOf(kindName).optional(),
    category: listOf(categoryName).optional(),
    tables: listOf(tablePattern).optional(),
    columns: listOf(columnPattern).optional(),
    touches: z.union([z.literal('sensitive'), listOf(sensitiveType)]).optional(),
    functions: listOf(z.string().regex(/^[A-Za-z_$*][A-Za-z0-9_$*.]*$/, 'a function name, * allowed')).optional(),
    flags: listOf(flagName).optional(),
    no_limit: z.literal(true).optional(),
    incomplete: z.boolean().optional(),
    agents: listOf(z.string().min(1)).optional(),
    agent_groups: listOf(z.string().min(1)).optional(),
  })
  .refine((m) => Object.keys(m).length > 0, 'an empty match would match everything; name at least one condition');

const approvalsSchema = z.strictObject({
  required: z.number().int().min(1).max(10).default(1),
  from: listOf(z.string().min(1)).optional(),
  expires_after: duration.optional(),
});

const ruleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'letters, digits, - and _'),
  description: z.string().optional(),
  match: matchSchema,
  unless: matchSchema.optional(),
  action: z.enum(ACTIONS),
  risk: z.enum(RISKS).optional(),
  code: z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an UPPER_SNAKE_CASE code').optional(),
  message: z.string().optional(),
  approvals: approvalsSchema.optional(),
  max_rows: z.number().int().positive().optional(),
});

const identifier = z.string().regex(/^([A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")$/, 'a Snowflake identifier');

const sensitiveSchema = z.union([
  z.strictObject({ column: columnPattern, type: sensitiveType }),
  z.strictObject({ table: tablePattern, type: sensitiveType }),
]);

export const policyFileSchema = z.strictObject({
  version: z.literal(1, { error: () => 'only version 1 exists' }),
  name: z.string().optional(),
  defaults: z
    .strictObject({
      database: identifier.optional(),
      schema: identifier.optional(),
      action: z.enum(ACTIONS).default('review'),
      max_rows: z.number().int().positive().optional(),
      approvals: approvalsSchema.default({ required: 1 }),
    })
    .default({ action: 'review', approvals: { required: 1 } }),
  multi_statement: z.enum(ACTIONS).default('review'),
  /** How results are masked: a strategy per sensitive type (defaults in docs/masking.md). */
  masking: z
    .strictObject({
      strategies: z.partialRecord(z.enum(SENSITIVE_TYPES), z.enum(['redact', 'partial', 'hash', 'null', 'generalize', 'detect'])).default({}),
    })
    .default({ strategies: {} }),
  sensitive: z.array(sensitiveSchema).default([]),
  approvers: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'letters, digits, - and _'),
      z.strictObject({
        slack_users: z.array(z.string().regex(/^[UW][A-Z0-9]+$/, 'a Slack user id like U0123ABCD')).default([]),
        slack_usergroups: z.array(z.string().regex(/^S[A-Z0-9]+$/, 'a Slack user group id like S0123ABCD')).default([]),
      }),
    )
    .default({}),
  rules: z.array(ruleSchema).min(1, 'a policy needs at least one rule'),
});

export type PolicyFile = z.infer<typeof policyFileSchema>;
export type Rule = z.infer<typeof ruleSchema>;
export type Match = z.infer<typeof matchSchema>;

/** One problem in a policy file, with the path to it (`rules[3].match.kind`). */
export interface PolicyProblem {
  path: string;
  message: string;
  line?: number;
}

export interface ParsedPolicy {
  file: PolicyFile;
  /** sha256 over the canonical JSON of the validated policy: decisions and caches are keyed by it. */
  version: string;
}

export type ParseResult = { ok: true; policy: ParsedPolicy } | { ok: false; problems: PolicyProblem[] };

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');

/** Canonical JSON: keys sorted, so equal policies get equal versions. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Parse and validate policy YAML; every problem is reported, each with its path and line. */
export function parsePolicy(text: string): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: '',
        message: `YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
        ...(e.linePos ? { line: e.linePos[0].line } : {}),
      })),
    };
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 50 });
  const result = policyFileSchema.safeParse(raw);
  const lineOf = (path: ReadonlyArray<PropertyKey>): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node && (isMap(node) || isSeq(node) || node.range)) {
        const range = node.range;
        return range ? lineCounter.linePos(range[0]).line : undefined;
      }
    }
    return undefined;
  };
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map((issue) => {
        const line = lineOf(issue.path);
        return { path: formatPath(issue.path), message: issue.message, ...(line ? { line } : {}) };
      }),
    };
  }
  const file = result.data;
  const problems = crossCheck(file);
  if (problems.length > 0) {
    return { ok: false, problems: problems.map((p) => ({ ...p, ...(lineOf(p.segments) ? { line: lineOf(p.segments)! } : {}) })).map(({ segments: _s, ...p }) => p) };
  }
  return { ok: true, policy: { file, version: policyVersion(file) } };
}

/** The version of a validated policy: sha256 over its canonical JSON, so equal policies get equal versions. */
export function policyVersion(file: PolicyFile): string {
  return createHash('sha256').update(canonical(file)).digest('hex');
}

/** Checks across fields: approver groups exist, rule names are unique. */
function crossCheck(file: PolicyFile): Array<PolicyProblem & { segments: PropertyKey[] }> {
  const out: Array<PolicyProblem & { segments: PropertyKey[] }> = [];
  const groups = new Set(Object.keys(file.approvers));
  const checkFrom = (from: string[] | undefined, segments: PropertyKey[]) => {
    from?.forEach((g, k) => {
      if (!groups.has(g)) {
        const known = groups.size > 0 ? `; defined: ${[...groups].join(', ')}` : '; define it under approvers';
        out.push({ path: formatPath([...segments, k]), segments: [...segments, k], message: `unknown approver group "${g}"${known}` });
      }
    });
  };
  checkFrom(file.defaults.approvals.from, ['defaults', 'approvals', 'from']);
  const seen = new Map<string, number>();
  file.rules.forEach((rule, i) => {
    const prior = seen.get(rule.name);
    if (prior !== undefined) {
      out.push({ path: `rules[${i}].name`, segments: ['rules', i, 'name'], message: `duplicate rule name "${rule.name}" (also rules[${prior}])` });
    } else seen.set(rule.name, i);
    checkFrom(rule.approvals?.from, ['rules', i, 'approvals', 'from']);
    if (rule.approvals && rule.action !== 'review') {
      out.push({ path: `rules[${i}].approvals`, segments: ['rules', i, 'approvals'], message: `approvals only apply to action "review" (this rule says "${rule.action}")` });
    }
  });
  return out;
}

/** Seconds in a policy duration (`90s`, `30m`, `1h`, `2d`, or a number of seconds). */
export function durationSeconds(d: string | number): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(d)!;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** Split a `DB.SCHEMA.TABLE[.COLUMN]` pattern into parts (quotes kept on quoted parts). */
export function patternParts(p: string): string[] {
  return splitPattern(p) ?? [];
}
