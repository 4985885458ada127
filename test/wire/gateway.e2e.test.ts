/**
 * The Snowflake-wire door end to end: the real, unmodified snowflake-sdk
 * connected to Airlock itself (not to the emulator), logged in with an OAuth
 * access token from the real dev OIDC issuer (oidc-provider); the API and
 * worker on real Redis and BullMQ; the emulator as the warehouse behind the
 * worker; approvals by correctly signed Slack requests to Airlock's receiver.
 * Slack's Web API is the local fake (no real Slack can run here).
 */
import type { RowStatement } from 'snowflake-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { apiClient } from '../support/api-client.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { shippedPolicy } from '../support/policies.ts';
import { uniquePrefix } from '../support/redis.ts';
import { cardOf } from '../support/slack-harness.ts';
import { slackClient, type SlackClient } from '../support/slack-client.ts';
import { until } from '../support/until.ts';
import { closeWire, connectWire, run, runError, streamAll, type DriverError } from '../support/wire-driver.ts';

const SECRET = 'wire-signing-secret-0123456789';
const CHANNEL = 'C0APPROVALS';
const prefix = uniquePrefix('wire-e2e');
let suite: DevSuite;
let slack: FakeSlack;
let fromSlack: SlackClient;
let token: string;

const PII = 'select customer_id, email, ssn from analytics.public.customers order by customer_id limit 5';

/** The query id the driver learned from the first "in progress" answer. */
function queryIdOf(stmt: () => RowStatement | undefined): Promise<string> {
  return until('the driver to learn the query id', () => stmt()?.getQueryId() || undefined, 20_000);
}

beforeAll(async () => {
  slack = await startFakeSlack();
  slack.setUser('U0ALICE', { email: 'alice@example.com', name: 'alice' });
  suite = await startDevSuite({
    prefix,
    env: {
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_APPROVAL_CHANNEL: CHANNEL,
      SLACK_API_URL: slack.url,
      // Each poll is held at most this long, so a review outlasts several polls here.
      AIRLOCK_MAX_WAIT_MS: '1500',
    },
    policy: await shippedPolicy({ dataOwners: { users: ['U0ALICE'] }, maxRows: 200_000, expiringAfter: '2s' }),
  });
  fromSlack = slackClient({ url: suite.env.apiUrl, secret: SECRET, channel: CHANNEL });
  token = await suite.env.mintToken({ agent: 'wire-bot', owner: 'owner@example.com', groups: ['analysts'] });
}, 120_000);

afterAll(async () => {
  await suite?.close();
  await slack?.close();
});

describe('the Snowflake driver through Airlock', () => {
  it('an allowed SELECT returns rows with the warehouse column metadata, upper-case names', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    const { rows, stmt } = await run(conn, 'select customer_id, segment from analytics.public.customers order by customer_id limit 3');
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({ CUSTOMER_ID: 1, SEGMENT: expect.any(String) });
    expect(stmt.getColumns()!.map((c) => [c.getName(), c.getType()])).toEqual([
      ['CUSTOMER_ID', 'fixed'],
      ['SEGMENT', 'text'],
    ]);
    await closeWire(conn);
  });

  it('dates and timestamps keep their types and values', async () => {
    const sql = 'select order_id, order_date, created_at from analytics.public.orders order by order_id limit 3';
    const rest = await apiClient(suite.env.apiUrl, token)('/v1/queries', { body: { sql, waitMs: 10_000 } });
    const conn = await connectWire(suite.env.apiUrl, token);
    const { stmt, rows } = await new Promise<{ stmt: RowStatement; rows: Record<string, unknown>[] }>((resolve, reject) => {
      conn.execute({ sqlText: sql, fetchAsString: ['Date'], complete: (err, s, r) => (err ? reject(err) : resolve({ stmt: s, rows: (r ?? []) as Record<string, unknown>[] })) });
    });
    expect(stmt.getColumns()!.map((c) => c.getType())).toEqual(['fixed', 'date', 'timestamp_ntz']);
    // Formatted by the driver from the wire encoding, in the session's formats: the warehouse's text again.
    expect(rows.map((r) => [r.ORDER_DATE, r.CREATED_AT])).toEqual((rest.json.result.rows as unknown[][]).map((r) => [r[1], r[2]]));
    await closeWire(conn);
  });

  it('a PII SELECT blocks in execute until a signed Slack approval, then returns masked rows; the card says it came over the wire', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    let stmt: RowStatement | undefined;
    let settled = false;
    const pending = run(conn, PII, { onStatement: (s) => (stmt = s) }).finally(() => (settled = true));
    const id = await queryIdOf(() => stmt);
    const { ts, message } = await cardOf(slack, prefix, id);
    expect(JSON.stringify(message.blocks)).toContain('Snowflake wire');
    // Longer than one held poll (AIRLOCK_MAX_WAIT_MS): the driver has been told "in progress" and asked again.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(settled).toBe(false);

    expect(await fromSlack.click('U0ALICE', id, { ts })).toBe(200);
    const { rows, stmt: done } = await pending;
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(String(row.EMAIL)).not.toMatch(/^[^@*]+@[^@]+\.[a-z]+$/i);
      expect(String(row.SSN)).not.toMatch(/^\d{3}-\d{2}-\d{4}$/);
    }
    const types = Object.fromEntries(done.getColumns()!.map((c) => [c.getName(), c.getType()]));
    expect(types).toMatchObject({ CUSTOMER_ID: 'fixed', EMAIL: 'text', SSN: 'text' });
    await closeWire(conn);
  }, 60_000);

  it('a 100 000-row result streams in chunks, masked', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    let stmt: RowStatement | undefined;
    const streamed = new Promise<Record<string, unknown>[]>((resolve, reject) => {
      stmt = conn.execute({
        sqlText: "select row_number() over (order by null) as n, 'user' || n || '@example.com' as contact from table(generator(rowcount => 100000))",
        streamResult: true,
        complete: (err) => (err ? reject(err) : resolve(streamAll(stmt!))),
      });
    });
    const rows = await streamed;
    expect(rows).toHaveLength(100_000);
    expect(stmt!.getNumRows()).toBe(100_000);
    expect(rows.filter((r) => String(r.CONTACT).endsWith('@example.com') && String(r.CONTACT).startsWith('user'))).toHaveLength(0);
    expect(new Set(rows.map((r) => r.N)).size).toBe(100_000);
    expect(stmt!.getColumns()!.find((c) => c.getName() === 'CONTACT')!.getType()).toBe('text');
    await closeWire(conn);
  }, 120_000);

  it('a denied statement raises a Snowflake-style error with the Airlock code and the reasons', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    const err = await runError(conn, 'copy into @exfil from analytics.public.orders');
    expect(err.code).toBe('471001');
    expect(err.message).toMatch(/^Airlock POLICY_DENIED \[EXFILTRATION[\],].*never allowed/);
    expect(err.sqlState).toBe('42501');
    await closeWire(conn);
  });

  it("a rejected statement raises the approver's reason", async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    let stmt: RowStatement | undefined;
    const failed = runError(conn, 'select email from analytics.public.customers', { onStatement: (s) => (stmt = s) });
    const id = await queryIdOf(() => stmt);
    const { ts } = await cardOf(slack, prefix, id);
    await fromSlack.click('U0ALICE', id, { ts }, 'deny');
    const modal = await until('the deny modal', () => slack.views.find((v) => v.view.private_metadata === id));
    expect((await fromSlack.denyReason('U0ALICE', id, 'Emails of every customer are not needed; ask for counts.', modal.id)).status).toBe(200);
    const err = await failed;
    expect(err.code).toBe('471002');
    expect(err.message).toContain('Airlock APPROVAL_REJECTED');
    expect(err.message).toContain('ask for counts');
    await closeWire(conn);
  }, 60_000);

  it('a review nobody decides in time raises APPROVAL_EXPIRED', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    const err = await runError(conn, 'select count(*) from analytics.public.expiring');
    expect(err.code).toBe('471003');
    expect(err.message).toContain('Airlock APPROVAL_EXPIRED');
    await closeWire(conn);
  }, 60_000);

  it('statement.cancel() ends the Airlock query', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    let stmt: RowStatement | undefined;
    const failed = runError(conn, 'select phone from analytics.public.customers', { onStatement: (s) => (stmt = s) });
    const id = await queryIdOf(() => stmt);
    await new Promise<void>((resolve, reject) => stmt!.cancel((err) => (err ? reject(err) : resolve())));
    const view = await apiClient(suite.env.apiUrl, token)(`/v1/queries/${id}?waitMs=5000`);
    expect(view.json.status).toBe('cancelled');
    const err = await failed;
    expect(err.code).toBe('000604');
    await closeWire(conn);
  }, 60_000);

  it('statement.cancel() of a running statement stops it in the warehouse', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    let stmt: RowStatement | undefined;
    const failed = runError(conn, 'select count(*) as n from table(generator(rowcount => 10000000000)) a, table(generator(rowcount => 1000)) b', {
      onStatement: (s) => (stmt = s),
    });
    const id = await queryIdOf(() => stmt);
    const api = apiClient(suite.env.apiUrl, token);
    await until('the statement to run', async () => (await api(`/v1/queries/${id}`)).json.status === 'running');
    await new Promise<void>((resolve, reject) => stmt!.cancel((err) => (err ? reject(err) : resolve())));
    const err = await failed;
    expect(err.code).toBe('000604');
    expect((await api(`/v1/queries/${id}?waitMs=5000`)).json.status).toBe('cancelled');
    await closeWire(conn);
  }, 60_000);

  it('statement.cancel() before the driver knows the query id (abort by request id) ends the Airlock query too', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    let stmt: RowStatement | undefined;
    const failed = runError(conn, 'select card_number from analytics.public.customers', { onStatement: (s) => (stmt = s) });
    await new Promise<void>((resolve, reject) => stmt!.cancel((err) => (err ? reject(err) : resolve())));
    const err = await failed;
    expect(err.code).toBe('000604');
    const id = stmt!.getQueryId();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await apiClient(suite.env.apiUrl, token)(`/v1/queries/${id}`)).json.status).toBe('cancelled');
    await closeWire(conn);
  }, 60_000);

  it('asyncExec, then getResultsFromQueryId, returns the rows', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    const sql = 'select order_id from analytics.public.orders order by order_id limit 4';
    let stmt: RowStatement | undefined;
    await new Promise<void>((resolve, reject) => {
      stmt = conn.execute({ sqlText: sql, asyncExec: true, complete: (err) => (err ? reject(err) : resolve()) });
    });
    const id = stmt!.getQueryId();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await until('the query to finish', async () => (await conn.getQueryStatus(id)) === 'SUCCESS');
    const again = await conn.getResultsFromQueryId({ queryId: id });
    const rows = await streamAll(again);
    expect(rows.map((r) => r.ORDER_ID)).toEqual((await run(conn, sql)).rows.map((r) => r.ORDER_ID));
    expect(rows).toHaveLength(4);
    await closeWire(conn);
  });

  it('asyncExec of a statement under review: QUEUED while it waits, ABORTED once withdrawn', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    let stmt: RowStatement | undefined;
    await new Promise<void>((resolve, reject) => {
      stmt = conn.execute({ sqlText: 'select ssn from analytics.public.customers', asyncExec: true, complete: (err) => (err ? reject(err) : resolve()) });
    });
    const id = stmt!.getQueryId();
    expect(await conn.getQueryStatus(id)).toBe('QUEUED');
    expect((await apiClient(suite.env.apiUrl, token)(`/v1/queries/${id}/cancel`, { method: 'POST' })).status).toBe(200);
    expect(await conn.getQueryStatus(id)).toBe('ABORTED');
    await expect(conn.getResultsFromQueryId({ queryId: id })).rejects.toMatchObject({ code: '000604' });
    await closeWire(conn);
  });

  it('several statements in one request are one Airlock query, reviewed as the policy says, then refused by the warehouse adapter', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    let stmt: RowStatement | undefined;
    const pending = run(conn, 'select 1 as a; select 2 as b', { onStatement: (s) => (stmt = s) }).then(
      (r) => ({ rows: r.rows }),
      (err: DriverError) => ({ err }),
    );
    const id = await queryIdOf(() => stmt);
    const view = await apiClient(suite.env.apiUrl, token)(`/v1/queries/${id}`);
    expect(view.json.status).toBe('pending_approval');
    expect(JSON.stringify(view.json.decision.reasons)).toContain('MULTI_STATEMENT');
    const { ts } = await cardOf(slack, prefix, id);
    expect(await fromSlack.click('U0ALICE', id, { ts })).toBe(200);
    // Approved, it reaches the warehouse as one statement text; the warehouse adapter asks for one
    // statement (as on the REST path), so Snowflake's own count check refuses it, as a definite error.
    const outcome = await pending;
    expect('err' in outcome && outcome.err.code).toBe('471006');
    expect('err' in outcome && outcome.err.message).toMatch(/^Airlock WAREHOUSE_SQL_ERROR: .*statement count/);
    await closeWire(conn);
  }, 60_000);

  it('an approved INSERT reports its row count to the driver', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    let stmt: RowStatement | undefined;
    const pending = run(conn, "insert into analytics.public.orders (order_id, customer_id, status) values (9999901, 1, 'wire')", { onStatement: (s) => (stmt = s) });
    const id = await queryIdOf(() => stmt);
    const { ts } = await cardOf(slack, prefix, id);
    expect(await fromSlack.click('U0ALICE', id, { ts })).toBe(200);
    const { stmt: done } = await pending;
    expect(done.getNumUpdatedRows()).toBe(1);
    await closeWire(conn);
  }, 60_000);

  it('binds become literals the policy judges; describeOnly gives the columns without rows', async () => {
    const conn = await connectWire(suite.env.apiUrl, token);
    const { rows } = await run(conn, "select customer_id from analytics.public.customers where customer_id = ? and segment <> 'it''s'", { binds: [2] });
    expect(rows).toEqual([{ CUSTOMER_ID: 2 }]);
    const described = await run(conn, 'select customer_id, segment from analytics.public.customers', { describeOnly: true });
    expect(described.rows).toEqual([]);
    expect(described.stmt.getColumns()!.map((c) => c.getName())).toEqual(['CUSTOMER_ID', 'SEGMENT']);
    await closeWire(conn);
  });
});
