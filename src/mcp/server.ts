/**
 * The one MCP server definition: Airlock's tools over an {@link AirlockPort}.
 * Both transports build it, the streamable HTTP endpoint at /mcp (on the
 * services in process) and `airlock mcp` over stdio (on a remote Airlock's
 * REST API), so the two can never drift apart.
 */
import { McpServer } from '@modelcontextprotocol/server';
import type { Logger } from '../log.ts';
import { registerCatalogTools } from './catalog-tools.ts';
import type { AirlockPort } from './port.ts';
import { registerQueryTools } from './query-tools.ts';

/** Name and version MCP clients show. */
export const SERVER_INFO = { name: 'airlock', title: 'Airlock', version: '0.1.0' } as const;

const INSTRUCTIONS = `Airlock is the only way to query Snowflake here: every statement goes through its policy.
Reads that touch nothing sensitive run at once and come back with sensitive values masked; writes, DDL and sensitive reads wait for human approval in Slack; some statements are refused.
Workflow: list_tables / describe_table to learn the schema, check_policy to see what a statement would need, run_query with a purpose, and wait_for_query while approvers decide (tell the user who must approve). A denial says what would pass instead.`;

/** A fresh server with every Airlock tool, acting through `port` (one agent's view of Airlock). */
export function buildMcpServer(port: AirlockPort, logger: Logger): McpServer {
  const server = new McpServer(SERVER_INFO, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  registerQueryTools(server, port, logger);
  registerCatalogTools(server, port, logger);
  return server;
}
