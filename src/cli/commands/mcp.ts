/**
 * `airlock mcp --url https://airlock.example.com`: Airlock's MCP server over
 * stdio, for agents that start their tools as local processes (Claude Code,
 * Cursor, Claude Desktop). It is a thin client of a remote Airlock's REST API
 * and holds no warehouse or Slack secret: only the agent's token, from
 * AIRLOCK_TOKEN or OAuth client credentials. stdout carries MCP messages
 * only; logs go to stderr.
 */
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../../config/env.ts';
import { AirlockError } from '../../errors.ts';
import type { TokenSource } from '../../mcp/token-source.ts';
import { logger as cliLogger } from '../lib/process.ts';

/** AIRLOCK_TOKEN as it is, or client credentials; neither is a usage error. */
async function tokenSource(config: Config, airlockUrl: string): Promise<TokenSource> {
  const { clientCredentialsTokens, staticToken } = await import('../../mcp/token-source.ts');
  if (config.AIRLOCK_TOKEN) return staticToken(config.AIRLOCK_TOKEN);
  if (config.AIRLOCK_CLIENT_ID && config.AIRLOCK_CLIENT_SECRET) {
    return clientCredentialsTokens({ airlockUrl, clientId: config.AIRLOCK_CLIENT_ID, clientSecret: config.AIRLOCK_CLIENT_SECRET });
  }
  throw new AirlockError('AUTH_MISSING', "Set AIRLOCK_TOKEN to the agent's bearer token, or AIRLOCK_CLIENT_ID and AIRLOCK_CLIENT_SECRET for the client credentials grant.");
}

/** `airlock mcp --url URL`: serve MCP on stdin/stdout until the client closes stdin. */
export async function mcp(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { url: { type: 'string' } }, strict: true });
  const config = loadConfig(process.env);
  const url = values.url ? URL.parse(values.url) : null;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new AirlockError('BAD_REQUEST', 'Pass the Airlock to use: airlock mcp --url https://airlock.example.com');
  }
  const { isLoopback } = await import('../../mcp/token-source.ts');
  // The agent's token (and its client secret, through the metadata that names the issuer) goes to this URL.
  if (url.protocol === 'http:' && !isLoopback(url)) {
    throw new AirlockError('BAD_REQUEST', `airlock mcp sends the agent's token to ${url.origin}; use https:// (http:// only for an Airlock on this machine).`);
  }
  const tokens = await tokenSource(config, url.href);
  const [{ serveStdio }, { restPort }, { buildMcpServer, SERVER_INFO }] = await Promise.all([
    import('@modelcontextprotocol/server/stdio'),
    import('../../mcp/rest-port.ts'),
    import('../../mcp/server.ts'),
  ]);
  const logger = cliLogger(config).child({ component: 'mcp' });
  const port = restPort({ url: url.href, tokens, userAgent: `${SERVER_INFO.name}-mcp/${SERVER_INFO.version} (stdio)` });
  const closed = new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
  });
  const handle = serveStdio(() => buildMcpServer(port, logger), { onerror: (err) => logger.warn({ err }, 'MCP stdio error') });
  logger.info({ url: url.origin }, 'airlock mcp serving on stdio');
  await closed;
  await handle.close();
  return 0;
}
