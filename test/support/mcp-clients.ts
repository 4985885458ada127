/**
 * The official MCP clients of both SDK generations, over both transports, as
 * one small interface for the MCP suites and the bench:
 * - `v1`: `@modelcontextprotocol/sdk` 1.x (speaks 2025-11-25 and older);
 * - `v2`: `@modelcontextprotocol/client` 2.x, by default with version
 *   negotiation `auto` (probes with `server/discover`, speaks 2026-07-28 when
 *   the server does), or with the SDK's own default `legacy` (2025 handshake).
 * Streamable HTTP goes to /mcp with the agent's bearer token; stdio spawns
 * the real `airlock mcp --url …` CLI process.
 */
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** Which SDK generation. */
export type Generation = 'v1' | 'v2';
/** Which transport. */
export type TransportKind = 'http' | 'stdio';

/** A tool call's result as both generations return it (the fields the suites read). */
export interface ToolResult {
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, any>; // the tool's own JSON, read freely by the suites
  isError?: boolean;
}

/** A progress notification the client received. */
export interface ProgressSeen {
  progress: number;
  total?: number;
  message?: string;
  at: number;
}

/** A connected client. */
export interface McpSession {
  generation: Generation;
  transport: TransportKind;
  /** The protocol version the client and Airlock agreed on. */
  protocolVersion: string | undefined;
  call(name: string, args: Record<string, unknown>, options?: { onprogress?: (p: ProgressSeen) => void; timeoutMs?: number }): Promise<ToolResult>;
  toolNames(): Promise<Array<{ name: string; annotations?: Record<string, unknown> }>>;
  close(): Promise<void>;
}

/** The text of a result's first content block. */
export function textOf(result: ToolResult): string {
  return result.content.map((c) => c.text ?? '').join('\n');
}

/** How to start `airlock mcp` from this checkout (the real CLI, under tsx). */
export function airlockMcpCommand(airlockUrl: string): { command: string; args: string[] } {
  return { command: process.execPath, args: ['--import', 'tsx', 'src/cli/main.ts', 'mcp', '--url', airlockUrl] };
}

type AnyTransport = { start(): Promise<void>; onmessage?: (message: any, extra?: any) => void };

/** Watch the transport for the initialize result, so a v1 client's negotiated version can be read (it exposes none). */
function watchVersion(transport: AnyTransport): () => string | undefined {
  let seen: string | undefined;
  const start = transport.start.bind(transport);
  transport.start = async () => {
    const handler = transport.onmessage;
    transport.onmessage = (message, extra) => {
      const version = message?.result?.protocolVersion;
      if (typeof version === 'string') seen = version;
      handler?.(message, extra);
    };
    return start();
  };
  return () => seen;
}

const CLIENT_INFO = { name: 'airlock-test-client', version: '1.0.0' };

/** Connect a client of `generation` over `transport` to the Airlock at `airlockUrl`, as the agent whose token is `token`. */
export async function connectMcp(
  generation: Generation,
  transport: TransportKind,
  airlockUrl: string,
  token: string,
  env: Record<string, string> = {},
  /** v2 only: `auto` probes for 2026-07-28; `legacy` (the v2 SDK's default) runs the plain 2025 handshake. */
  negotiation: 'auto' | 'legacy' = 'auto',
): Promise<McpSession> {
  const headers = { authorization: `Bearer ${token}` };
  const stdio = airlockMcpCommand(airlockUrl);
  const stdioEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', AIRLOCK_LOG_LEVEL: 'warn', ...(token ? { AIRLOCK_TOKEN: token } : {}), ...env };
  if (generation === 'v1') {
    const client = new ClientV1(CLIENT_INFO);
    const t =
      transport === 'http'
        ? new HttpV1(new URL(`${airlockUrl}/mcp`), { requestInit: { headers } })
        : new StdioV1({ ...stdio, env: stdioEnv, cwd: process.cwd(), stderr: 'pipe' });
    const version = watchVersion(t as unknown as AnyTransport);
    await client.connect(t);
    return {
      generation,
      transport,
      protocolVersion: version(),
      async call(name, args, options = {}) {
        return (await client.callTool({ name, arguments: args }, undefined, {
          ...(options.onprogress ? { onprogress: (p) => options.onprogress!({ ...p, at: Date.now() }) } : {}),
          ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
        })) as ToolResult;
      },
      toolNames: async () => (await client.listTools()).tools.map((t) => ({ name: t.name, ...(t.annotations ? { annotations: t.annotations } : {}) })),
      close: () => client.close(),
    };
  }
  const client = new ClientV2(CLIENT_INFO, { versionNegotiation: { mode: negotiation } });
  const t =
    transport === 'http'
      ? new HttpV2(new URL(`${airlockUrl}/mcp`), { requestInit: { headers } })
      : new StdioV2({ ...stdio, env: stdioEnv, cwd: process.cwd(), stderr: 'pipe' });
  await client.connect(t);
  return {
    generation,
    transport,
    protocolVersion: client.getNegotiatedProtocolVersion(),
    async call(name, args, options = {}) {
      return (await client.callTool(
        { name, arguments: args },
        {
          ...(options.onprogress ? { onprogress: (p) => options.onprogress!({ ...p, at: Date.now() }) } : {}),
          ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
        },
      )) as ToolResult;
    },
    toolNames: async () => (await client.listTools()).tools.map((t) => ({ name: t.name, ...(t.annotations ? { annotations: t.annotations as Record<string, unknown> } : {}) })),
    close: () => client.close(),
  };
}
