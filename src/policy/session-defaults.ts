/**
 * Where unqualified names resolve. The warehouse session runs with the
 * connection's database and schema (SNOWFLAKE_DATABASE / SNOWFLAKE_SCHEMA);
 * the policy judges names with its own `defaults.database` / `defaults.schema`.
 * If the two disagreed, `SELECT ssn FROM customers` would be judged as one
 * table and run against another, so the rules written for the table that runs
 * would not apply. This module makes them one: the connection's value fills a
 * default the policy leaves out, and a policy that names another is refused.
 * Pure: no I/O.
 */
import { FALLBACK_NAMESPACE } from './analyse.ts';
import { policyVersion, type ParsedPolicy, type PolicyFile, type PolicyProblem } from './schema.ts';

/** The connection's current database and schema, as configured (unquoted: case-insensitive; `"quoted"`: exact). */
export interface SessionNames {
  database?: string | undefined;
  schema?: string | undefined;
}

/** An identifier as Snowflake resolves it: `"Exact"` keeps its case, anything else is upper-cased. */
function resolved(name: string): string {
  return name.startsWith('"') && name.endsWith('"') && name.length >= 2 ? name.slice(1, -1).replace(/""/g, '"') : name.toUpperCase();
}

/**
 * Problems when the policy's defaults name another database or schema than
 * the connection (one per part); empty when they agree or one side is unset.
 */
export function sessionDefaultProblems(policy: ParsedPolicy, session: SessionNames): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const part of ['database', 'schema'] as const) {
    const inPolicy = policy.file.defaults[part];
    const inSession = session[part];
    if (inPolicy === undefined || inSession === undefined || resolved(inPolicy) === resolved(inSession)) continue;
    const variable = part === 'database' ? 'SNOWFLAKE_DATABASE' : 'SNOWFLAKE_SCHEMA';
    problems.push({
      path: `defaults.${part}`,
      message: `the policy resolves unqualified names in ${part} ${inPolicy} but ${variable} connects to ${inSession}: statements would be judged against one and run against the other; make them the same or set only one`,
    });
  }
  return problems;
}

/**
 * The database and schema the warehouse connection must use so that a
 * statement runs where the policy judged it: the configured ones
 * (SNOWFLAKE_DATABASE / SNOWFLAKE_SCHEMA), else the policy's defaults, else
 * the analyser's fallback. Without this, a connection that names none runs in
 * the Snowflake user's default namespace, which the policy never saw. As
 * written (a `"quoted"` name keeps its quotes).
 */
export function connectionNamespace(file: PolicyFile, session: SessionNames): { database: string; schema: string } {
  return {
    database: session.database ?? file.defaults.database ?? FALLBACK_NAMESPACE.database,
    schema: session.schema ?? file.defaults.schema ?? FALLBACK_NAMESPACE.schema,
  };
}

/**
 * The policy with the connection's database and schema as its defaults where
 * it names none, and the version of that effective policy (decisions name the
 * rules and names they were made with). Call {@link sessionDefaultProblems}
 * first: this does not check for a disagreement.
 */
export function withSessionDefaults(policy: ParsedPolicy, session: SessionNames): ParsedPolicy {
  const { defaults } = policy.file;
  const database = defaults.database ?? session.database;
  const schema = defaults.schema ?? session.schema;
  if (database === defaults.database && schema === defaults.schema) return policy;
  const file: PolicyFile = {
    ...policy.file,
    defaults: { ...defaults, ...(database !== undefined ? { database } : {}), ...(schema !== undefined ? { schema } : {}) },
  };
  return { file, version: policyVersion(file) };
}
