/**
 * Airlock's MCP tools end to end with the official clients of both SDK
 * generations (v1 `@modelcontextprotocol/sdk`, v2 `@modelcontextprotocol/client`)
 * over both transports (streamable HTTP at /mcp; stdio through the real
 * `airlock mcp --url …` CLI process). All real but Slack: `airlock dev` (API,
 * worker, emulator through snowflake-sdk, dev OIDC issuer) on real Redis,
 * correctly signed Slack clicks against Airlock's receiver, and the Web API
 * pointed at the local fake Slack (no real Slack can run here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardOf } from '../support/slack-harness.ts';
import { connectMcp, textOf, type Generation, type McpSession, type ProgressSeen, type TransportKind } from '../support/mcp-clients.ts';
import { readsAllowedPolicy } from '../support/policies.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { uniquePrefix } from '../support/redis.ts';
import { slackClient, type SlackClient } from '../support/slack-client.ts';

const SECRET = 'mcp-signing-secret-0123456789';
const CHANNEL = 'C0MCPAPPROVALS';
const prefix = uniquePrefix('mcp-tools');
let suite: DevSuite;
let slack: FakeSlack;
let fromSlack: SlackClient;
let agentToken: string;
let otherToken: string;

beforeAll(async () => {
  slack = await startFakeSlack();
  slack.setUser('U0ALICE', { email: 'alice@example.com', name: 'alice' });
  const policy = await readsAllowedPolicy({
    dataOwners: { users: ['U0ALICE'] },
    rules: [
      '{ name: destructive, match: { category: destructive }, action: review, approvals: { required: 1, from: [data-owners] } }',
      '{ name: shared-session, match: { category: [session, transaction] }, action: deny, code: SESSION_CHANGE }',
      '{ name: no-ssn, match: { columns: ["*.*.CUSTOMERS.SSN"] }, action: deny }',
    ],
  });
  suite = await startDevSuite({
    prefix,
    policy,
    env: { SLACK_BOT_TOKEN: 'xoxb-mcp-test', SLACK_SIGNING_SECRET: SECRET, SLACK_APPROVAL_CHANNEL: CHANNEL, SLACK_API_URL: slack.url },
  });
  fromSlack = slackClient({ url: suite.env.apiUrl, secret: SECRET, channel: CHANNEL });
  agentToken = await suite.env.mintToken({ agent: 'mcp-agent', owner: 'owner@example.com', groups: ['analysts'] });
  otherToken = await suite.env.mintToken({ agent: 'other-agent', owner: 'other@example.com', groups: ['analysts'] });
}, 120_000);

afterAll(async () => {
  await suite?.close();
  await slack?.close();
});

const COMBOS: Array<[Generation, TransportKind, string]> = [
  ['v1', 'http', '2025-11-25'],
  ['v2', 'http', '2026-07-28'],
  ['v1', 'stdio', '2025-11-25'],
  ['v2', 'stdio', '2026-07-28'],
];

describe.each(COMBOS)('MCP %s client over %s', (generation, transport, expectedVersion) => {
  let agent: McpSession;
  let other: McpSession;
  /** A query id of this agent, for the isolation test. */
  let ownId: string;

  beforeAll(async () => {
    agent = await connectMcp(generation, transport, suite.env.apiUrl, agentToken);
    other = await connectMcp(generation, transport, suite.env.apiUrl, otherToken);
  }, 60_000);
  afterAll(async () => {
    await agent?.close();
    await other?.close();
  });

  it(`negotiates ${expectedVersion} and lists every tool with truthful annotations`, async () => {
    expect(agent.protocolVersion).toBe(expectedVersion);
    const tools = await agent.toolNames();
    expect(tools.map((t) => t.name).sort()).toEqual(
      ['cancel_query', 'check_policy', 'describe_table', 'get_query', 'get_results', 'list_tables', 'my_queries', 'run_query', 'wait_for_query'].sort(),
    );
    const run = tools.find((t) => t.name === 'run_query')!.annotations!;
    expect(run).toMatchObject({ readOnlyHint: false, destructiveHint: true, openWorldHint: false });
    expect(tools.find((t) => t.name === 'check_policy')!.annotations).toMatchObject({ readOnlyHint: true });
  });

  it('a read returns masked rows, as structured content and as a table', async () => {
    const result = await agent.call('run_query', { sql: 'select customer_id, email from analytics.public.customers order by customer_id limit 3', purpose: 'count customers' });
    expect(result.isError ?? false).toBe(false);
    const s = result.structuredContent!;
    expect(s.status).toBe('succeeded');
    expect(s.result.rows).toHaveLength(3);
    const emails = s.result.rows.map((r: unknown[]) => String(r[1]));
    for (const email of emails) expect(email).toMatch(/^\*{3}@/);
    expect(s.masking.map((m: { column: string }) => m.column)).toContain('EMAIL');
    expect(textOf(result)).toContain('| CUSTOMER_ID | EMAIL |');
    ownId = s.id;

    // Paging: one row at a time through get_results.
    const first = await agent.call('get_results', { id: ownId, limit: 2 });
    expect(first.structuredContent!.rows).toHaveLength(2);
    const next = await agent.call('get_results', { id: ownId, cursor: first.structuredContent!.nextCursor, limit: 2 });
    expect(next.structuredContent!.rows).toHaveLength(1);
    expect(next.structuredContent!.nextCursor).toBeUndefined();
  });

  it('a DROP waits for approval; the purpose reaches the Slack card; after a signed approval wait_for_query returns the result', async () => {
    const table = `ANALYTICS.PUBLIC.MCP_SCRATCH_${generation}_${transport}`.toUpperCase();
    const purpose = `tidy up after the ${generation} ${transport} migration test`;
    const submitted = await agent.call('run_query', { sql: `drop table if exists ${table}`, purpose });
    const s = submitted.structuredContent!;
    expect(s.status).toBe('pending_approval');
    expect(textOf(submitted)).toMatch(/0 of 1 approval\(s\) from data-owners/);
    expect(textOf(submitted)).toContain('wait_for_query');
    const id: string = s.id;

    const card = await cardOf(slack, prefix, id);
    expect(JSON.stringify(card.message.blocks)).toContain(purpose);

    const waiting = agent.call('wait_for_query', { id }, { timeoutMs: 70_000 });
    expect(await fromSlack.click('U0ALICE', id, { ts: card.ts })).toBe(200);
    const done = await waiting;
    expect(done.structuredContent!.status).toBe('succeeded');
    expect(done.structuredContent!.stillPending).toBeUndefined();
  }, 90_000);

  it('a denial returns the reason code, the column at fault and what would pass', async () => {
    const session = await agent.call('run_query', { sql: 'use database analytics' });
    expect(session.isError).toBe(true);
    expect(session.structuredContent!.status).toBe('denied');
    const reason = session.structuredContent!.decision.reasons[0];
    expect(reason.code).toBe('SESSION_CHANGE');
    expect(reason.instead).toMatch(/DATABASE\.SCHEMA\.TABLE/);

    const ssn = await agent.call('run_query', { sql: 'select customer_id, ssn from analytics.public.customers limit 3' });
    expect(ssn.isError).toBe(true);
    const atFault = ssn.structuredContent!.decision.reasons.find((r: { column?: string }) => r.column === 'ANALYTICS.PUBLIC.CUSTOMERS.SSN');
    expect(atFault).toBeDefined();
    expect(textOf(ssn)).toContain('column ANALYTICS.PUBLIC.CUSTOMERS.SSN');
    expect(textOf(ssn)).toMatch(/What would pass: Leave out SSN/);
  });

  it("another agent's query id is refused as not found", async () => {
    for (const tool of ['get_query', 'wait_for_query', 'get_results', 'cancel_query']) {
      const refused = await other.call(tool, { id: ownId, ...(tool === 'wait_for_query' ? { timeoutSeconds: 1 } : {}) });
      expect(refused.isError, tool).toBe(true);
      expect(refused.structuredContent!.error.code, tool).toBe('NOT_FOUND');
      expect(textOf(refused)).not.toContain('EMAIL');
    }
    // Its own list does not show the other agent's queries either.
    const mine = await other.call('my_queries', {});
    expect(JSON.stringify(mine.structuredContent)).not.toContain(ownId);
  });

  it('check_policy, list_tables, describe_table, my_queries and cancel_query', async () => {
    const dry = await agent.call('check_policy', { sql: 'drop table analytics.public.orders' });
    expect(dry.structuredContent).toMatchObject({ action: 'review', approvals: { required: 1, groups: ['data-owners'] } });
    expect(textOf(dry)).toContain('nothing ran');

    const tables = await agent.call('list_tables', { database: 'ANALYTICS', schema: 'PUBLIC' });
    expect(tables.structuredContent!.status).toBe('succeeded');
    expect(JSON.stringify(tables.structuredContent!.result.rows)).toContain('CUSTOMERS');

    const described = await agent.call('describe_table', { table: 'ANALYTICS.PUBLIC.CUSTOMERS' });
    expect(described.structuredContent!.result.columns[0].name.toLowerCase()).toBe('name');
    expect(JSON.stringify(described.structuredContent!.result.rows)).toContain('EMAIL');
    const injected = await agent.call('describe_table', { table: 'CUSTOMERS; DROP TABLE ORDERS' });
    expect(injected.isError).toBe(true);

    const pending = await agent.call('run_query', { sql: `drop table if exists analytics.public.never_${generation}_${transport}`, purpose: 'to be withdrawn' });
    const id: string = pending.structuredContent!.id;
    const mine = await agent.call('my_queries', { status: 'pending_approval' });
    expect(mine.structuredContent!.queries.map((q: { id: string }) => q.id)).toContain(id);
    const cancelled = await agent.call('cancel_query', { id });
    expect(cancelled.structuredContent!.status).toBe('cancelled');
  });

  it('a retried run_query with the same idempotency key answers with the first query, not a second one', async () => {
    const args = { sql: `drop table if exists analytics.public.retried_${generation}_${transport}`, purpose: 'retry test', idempotencyKey: `retry-${generation}-${transport}` };
    const first = await agent.call('run_query', args);
    const again = await agent.call('run_query', args);
    expect(first.structuredContent!.status).toBe('pending_approval');
    expect(again.structuredContent!.id).toBe(first.structuredContent!.id);
    await agent.call('cancel_query', { id: first.structuredContent!.id });
  });
});

describe.each([
  ['v1', 'http'],
  ['v2', 'stdio'],
] as Array<[Generation, TransportKind]>)('waiting with a %s client over %s', (generation, transport) => {
  it('wait_for_query sends progress at least every 10 s and says "call again" while still pending', async () => {
    const session = await connectMcp(generation, transport, suite.env.apiUrl, agentToken);
    try {
      const pending = await session.call('run_query', { sql: `drop table if exists analytics.public.slow_${generation}`, purpose: 'progress test' });
      const id: string = pending.structuredContent!.id;
      const seen: ProgressSeen[] = [];
      const started = Date.now();
      const result = await session.call('wait_for_query', { id, timeoutSeconds: 12 }, { onprogress: (p) => seen.push(p) });
      expect(result.structuredContent!.status).toBe('pending_approval');
      expect(result.structuredContent!.stillPending).toBe(true);
      expect(textOf(result)).toMatch(/call wait_for_query again/);
      expect(seen.length).toBeGreaterThanOrEqual(1);
      expect(seen[0]!.message).toMatch(/Waiting for approval in Slack/);
      const gaps = [seen[0]!.at - started, ...seen.slice(1).map((p, i) => p.at - seen[i]!.at)];
      for (const gap of gaps) expect(gap).toBeLessThanOrEqual(10_000);
      await session.call('cancel_query', { id });
    } finally {
      await session.close();
    }
  }, 40_000);
});
