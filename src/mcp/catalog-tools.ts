/**
 * The tools that help an agent write a query that passes: check_policy (a dry
 * run), list_tables and describe_table (SHOW / DESCRIBE statements, through
 * the policy like any statement), and my_queries.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { SESSION_STATUSES } from '../api/schemas.ts';
import type { Logger } from '../log.ts';
import type { ResultPage } from '../queries/types.ts';
import type { AirlockPort } from './port.ts';
import { presentDecision, presentRefusal, presentSessions, presentView, type ToolAnswer } from './present.ts';
import { answer } from './tool-kit.ts';
import { STEP_MS } from './wait.ts';

/** An unquoted Snowflake identifier; anything else is refused before it reaches SQL text. */
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,254}$/, 'an unquoted identifier (letters, digits, _ and $)');
/** TABLE, SCHEMA.TABLE or DATABASE.SCHEMA.TABLE of unquoted identifiers. */
const tableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,254}(\.[A-Za-z_][A-Za-z0-9_$]{0,254}){0,2}$/, 'TABLE, SCHEMA.TABLE or DATABASE.SCHEMA.TABLE');

/** A SQL string literal. */
const literal = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** Keep the named columns of a page (case-insensitive, in this order, those that exist), so a listing stays readable. */
function project(page: ResultPage, names: readonly string[]): ResultPage {
  const lower = page.columns.map((c) => c.name.toLowerCase());
  const picks = names.map((n) => lower.indexOf(n)).filter((i) => i >= 0);
  if (picks.length === 0) return page;
  return { ...page, columns: picks.map((i) => page.columns[i]!), rows: page.rows.map((r) => picks.map((i) => r[i])) };
}

/** Run a metadata statement as the agent; the result projected to the columns worth reading. */
async function runMetadata(port: AirlockPort, sql: string, purpose: string, columns: readonly string[]): Promise<ToolAnswer> {
  const outcome = await port.run({ sql, purpose, waitMs: STEP_MS * 2 });
  if (outcome.refused) return presentRefusal(outcome.refusal);
  const view = outcome.view;
  return presentView(view.result ? { ...view, result: project(view.result, columns) } : view);
}

/**
 * The tools' definitions (description, arguments, hints), built once per
 * process: every HTTP request builds a server from them (server.ts).
 */
const CHECK_POLICY = {
  title: 'Dry-run a statement against the policy',
  description:
    'See what Airlock would do with a SQL statement without running it: allow (runs at once), review (waits for approvers in Slack; who and how many) or deny, with the reason codes, the tables and columns involved, and what would pass instead. Use it to shape a query before run_query.',
  inputSchema: z.object({ sql: z.string().min(1).describe('The SQL statement to evaluate.') }),
  annotations: { title: 'Dry-run against the policy', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
};

const LIST_TABLES = {
  title: 'List tables',
  description:
    'List the tables you can query (SHOW TABLES, run through Airlock and its policy like any statement). Narrow it with database, schema and a LIKE pattern. Then use describe_table for the columns.',
  inputSchema: z.object({
    database: identifier.optional().describe('Database to list; with schema, one schema.'),
    schema: identifier.optional().describe('Schema to list (needs database).'),
    like: z.string().max(200).optional().describe("A LIKE pattern on the table name, e.g. '%ORDER%'."),
  }),
  annotations: { title: 'List tables', readOnlyHint: true, openWorldHint: false },
};

const DESCRIBE_TABLE = {
  title: 'Describe a table',
  description:
    'The columns of a table with their types (DESCRIBE TABLE, through Airlock and its policy like any statement). Check it before selecting: columns Airlock treats as sensitive need approval or come back masked; check_policy tells you which.',
  inputSchema: z.object({ table: tableName.describe('DATABASE.SCHEMA.TABLE (or a name the default database and schema resolve).') }),
  annotations: { title: 'Describe a table', readOnlyHint: true, openWorldHint: false },
};

const MY_QUERIES = {
  title: 'List my queries',
  description: 'Your recent queries, newest first, with status (pending_approval, succeeded, denied, …) and tables. Use it to find the id of a query to wait for, page or cancel.',
  inputSchema: z.object({
    status: z.enum(SESSION_STATUSES).optional().describe('Only queries in this status.'),
    table: z.string().min(1).max(512).optional().describe('Only queries touching this table or column (any suffix: CUSTOMERS, CUSTOMERS.SSN).'),
    cursor: z.string().min(1).max(500).optional().describe('nextCursor from the previous answer.'),
    limit: z.number().int().min(1).max(100).optional().describe('How many (default 20).'),
  }),
  annotations: { title: 'List my queries', readOnlyHint: true, openWorldHint: false },
};

/** check_policy, list_tables, describe_table, my_queries. */
export function registerCatalogTools(server: McpServer, port: AirlockPort, logger: Logger): void {
  server.registerTool(
    'check_policy',
    CHECK_POLICY,
    (args) => answer(logger, 'check_policy', async () => presentDecision(await port.evaluate(args.sql))),
  );

  server.registerTool(
    'list_tables',
    LIST_TABLES,
    (args) =>
      answer(logger, 'list_tables', async () => {
        const scope = args.database && args.schema ? ` IN SCHEMA ${args.database}.${args.schema}` : args.database ? ` IN DATABASE ${args.database}` : '';
        const sql = `SHOW TABLES${args.like ? ` LIKE ${literal(args.like)}` : ''}${scope}`;
        return runMetadata(port, sql, 'list_tables: discover tables before writing a query', ['database_name', 'schema_name', 'name', 'kind', 'rows', 'comment']);
      }),
  );

  server.registerTool(
    'describe_table',
    DESCRIBE_TABLE,
    (args) =>
      answer(logger, 'describe_table', () =>
        runMetadata(port, `DESCRIBE TABLE ${args.table}`, 'describe_table: learn the columns before writing a query', ['name', 'type', 'null?', 'kind', 'comment']),
      ),
  );

  server.registerTool(
    'my_queries',
    MY_QUERIES,
    (args) =>
      answer(logger, 'my_queries', async () =>
        presentSessions(
          await port.mine({
            limit: args.limit ?? 20,
            ...(args.status !== undefined ? { status: args.status } : {}),
            ...(args.table !== undefined ? { table: args.table } : {}),
            ...(args.cursor !== undefined ? { cursor: args.cursor } : {}),
          }),
        ),
      ),
  );
}
