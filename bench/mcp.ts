/**
 * The MCP path of `npm run bench`: `run_query` through /mcp (streamable HTTP)
 * with the official clients, beside the REST API in the same run (bench/run.ts
 * alternates them on one dev stack): the v2 client negotiating 2026-07-28, and
 * the v1 client on 2025-11-25 (served by the SDK's stateless legacy fallback).
 * One call is one POST; the time is the tool call as the agent sees it.
 */
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** One connected MCP client, timing run_query. */
export interface McpBenchPath {
  label: string;
  /** One run_query of `sql`; milliseconds. Throws unless it succeeded with 3 rows. */
  run(): Promise<number>;
  close(): Promise<void>;
}

type RunResult = { structuredContent?: { status?: string; result?: { rows?: unknown[] } }; isError?: boolean };

function check(result: RunResult): void {
  const s = result.structuredContent;
  if (result.isError || s?.status !== 'succeeded' || s.result?.rows?.length !== 3) {
    throw new Error(`MCP run_query answered ${JSON.stringify(s).slice(0, 200)}`);
  }
}

/** Both client generations, connected to `${apiUrl}/mcp` as the agent of `token`. */
export async function mcpBenchPaths(apiUrl: string, token: string, sql: string): Promise<McpBenchPath[]> {
  const url = new URL(`${apiUrl}/mcp`);
  const requestInit = { headers: { authorization: `Bearer ${token}` } };
  const info = { name: 'airlock-bench', version: '1.0.0' };
  const v2 = new ClientV2(info, { versionNegotiation: { mode: 'auto' } });
  await v2.connect(new HttpV2(url, { requestInit }));
  const v1 = new ClientV1(info);
  await v1.connect(new HttpV1(url, { requestInit }));
  return [
    {
      label: `agent → MCP run_query (v2 client, ${v2.getNegotiatedProtocolVersion()}) → broker → … → emulator`,
      async run() {
        const t0 = performance.now();
        check((await v2.callTool({ name: 'run_query', arguments: { sql } })) as RunResult);
        return performance.now() - t0;
      },
      close: () => v2.close(),
    },
    {
      label: 'agent → MCP run_query (v1 client, 2025-11-25, stateless) → broker → … → emulator',
      async run() {
        const t0 = performance.now();
        check((await v1.callTool({ name: 'run_query', arguments: { sql } })) as RunResult);
        return performance.now() - t0;
      },
      close: () => v1.close(),
    },
  ];
}
