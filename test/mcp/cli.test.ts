/**
 * `airlock mcp` as a user starts it wrong: a sentence on stderr, exit 1,
 * nothing on stdout (stdout is the MCP channel). The real CLI process.
 */
import { describe, expect, it } from 'vitest';
import { airlock } from '../support/cli.ts';

describe('airlock mcp refuses to start without what it needs', () => {
  it('needs --url', async () => {
    const result = await airlock(['mcp'], { env: { AIRLOCK_TOKEN: 'x.y.z' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('airlock: BAD_REQUEST: Pass the Airlock to use: airlock mcp --url https://airlock.example.com');
  });

  it('sends tokens to a remote Airlock only over https', async () => {
    const result = await airlock(['mcp', '--url', 'http://airlock.example.com'], { env: { AIRLOCK_TOKEN: 'x.y.z' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("airlock: BAD_REQUEST: airlock mcp sends the agent's token to http://airlock.example.com; use https://");
  });

  it('needs a token or client credentials', async () => {
    const result = await airlock(['mcp', '--url', 'http://127.0.0.1:9']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('airlock: AUTH_MISSING: Set AIRLOCK_TOKEN');
  });

  it('serves on stdio and ends when the client closes stdin', async () => {
    // One initialize line, then end of input: the answer on stdout, exit 0.
    const initialize = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'cli-test', version: '1' } } })}\n`;
    const result = await airlock(['mcp', '--url', 'http://127.0.0.1:9'], { env: { AIRLOCK_TOKEN: 'x.y.z', AIRLOCK_LOG_LEVEL: 'silent' }, input: initialize });
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout.trim().split('\n')[0]!) as { id: number; result: { protocolVersion: string; serverInfo: { name: string } } };
    expect(answer).toMatchObject({ id: 1, result: { protocolVersion: '2025-11-25', serverInfo: { name: 'airlock' } } });
  });
});
