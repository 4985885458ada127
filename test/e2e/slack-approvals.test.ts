/**
 * Approvals in Slack, end to end and all real except Slack itself: dev OIDC
 * issuer, the API and worker on real Redis and BullMQ, the emulator through the
 * real snowflake-sdk, Bolt behind Airlock's receiver, and correctly signed
 * Slack requests. Slack's Web API is the local fake in test/support (no real
 * Slack can run here); it enforces Block Kit limits and records every call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/env.ts';
import type { DevEnvironment } from '../../src/app/dev.ts';
import { createLogger } from '../../src/log.ts';
import type { ParsedPolicy } from '../../src/policy/schema.ts';
import { buildApp } from '../../src/app/build.ts';
import { APPROVE_ACTION_ID } from '../../src/slack/presenters.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { cardOf } from '../support/slack-harness.ts';
import { until } from '../support/until.ts';
import { recordingWarehouse } from '../support/warehouse.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { shippedPolicy } from '../support/policies.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { slackClient, type SlackClient } from '../support/slack-client.ts';

const SECRET = 'test-signing-secret-0123456789';
const CHANNEL = 'C0APPROVALS';
const OWNER = 'U0OWNER';
const MANY = Array.from({ length: 50 }, (_, i) => `U0M${String(i).padStart(2, '0')}`);
let sharedConfig: Config;
let sharedPolicy: ParsedPolicy;
const prefix = uniquePrefix('slack-e2e');
let env: DevEnvironment;
let slack: FakeSlack;
let suite: DevSuite;
let api: ApiClient;
/** Slack's side: signed clicks, modal submissions and commands to this process. */
let fromSlack: SlackClient;
const executed: string[] = [];

/** Wait until Slack has seen no call for a while: earlier tests' card updates and summaries are done. */
async function quiet(ms = 400): Promise<void> {
  await until('Slack to go quiet', () => (slack.calls.length === 0 || Date.now() - slack.calls.at(-1)!.at > ms ? true : undefined), 15_000);
}

beforeAll(async () => {
  slack = await startFakeSlack();
  slack.setUser('U0ALICE', { email: 'alice@example.com', name: 'alice' });
  slack.setUser('U0BOB', { email: 'bob@example.com', name: 'bob' });
  slack.setUser('U0CAROL', { email: 'carol@example.com', name: 'carol' });
  slack.setUser(OWNER, { email: 'owner@example.com', name: 'owner' });
  slack.setUser('U0MALLORY', { email: 'mallory@example.com', name: 'mallory' });
  slack.setUsergroupMembers('S0OWNERS', ['U0CAROL']);
  for (const u of MANY) slack.setUser(u, { email: `${u.toLowerCase()}@example.com`, name: u.toLowerCase() });
  slack.setUsergroupMembers('S0MANY', [...MANY]);
  sharedPolicy = await shippedPolicy({
    dataOwners: { users: ['U0ALICE', 'U0BOB', OWNER], usergroups: ['S0OWNERS', 'S0MANY'] },
    security: { users: ['U0ALICE', 'U0BOB'] },
    // A rule with a short expiry for the expiry test.
    expiringAfter: '2s',
  });
  suite = await startDevSuite({
    prefix,
    env: { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SECRET, SLACK_APPROVAL_CHANNEL: CHANNEL, SLACK_API_URL: slack.url },
    policy: sharedPolicy,
    wrapWarehouse: recordingWarehouse(executed),
  });
  ({ env, config: sharedConfig } = suite);
  fromSlack = slackClient({ url: env.apiUrl, secret: SECRET, channel: CHANNEL });
  api = apiClient(env.apiUrl, await env.mintToken({ agent: 'etl-bot', owner: 'owner@example.com', groups: ['analysts'] }));
}, 120_000);

afterAll(async () => {
  await suite?.close();
  await slack?.close();
});

describe('approvals in Slack', () => {
  it('DROP: card posted → two eligible approvers → runs once → card updated → thread summary → agent gets the outcome', async () => {
    const sql = 'drop table analytics.public.orders';
    const submitted = await api('/v1/queries', { body: { sql, purpose: 'clean up' } });
    expect(submitted.status).toBe(202);
    expect(submitted.json.status).toBe('pending_approval');
    const id: string = submitted.json.id;
    const { ts, message } = await cardOf(slack, prefix, id);
    expect(JSON.stringify(message.blocks)).toContain(APPROVE_ACTION_ID);
    expect(JSON.stringify(message.blocks)).toContain('0 of 2');

    expect(await fromSlack.click('U0ALICE', id, { ts })).toBe(200);
    await until('the card to show 1 of 2', () => JSON.stringify(slack.messages.get(ts)?.blocks ?? []).includes('1 of 2'));
    const halfway = await api(`/v1/queries/${id}`);
    expect(halfway.json.status).toBe('pending_approval');
    expect(executed).not.toContain(sql);

    expect(await fromSlack.click('U0BOB', id, { ts })).toBe(200);
    const done = await api(`/v1/queries/${id}?waitMs=10000`);
    expect(done.json.status).toBe('succeeded');
    expect(executed.filter((s) => s === sql)).toHaveLength(1);

    const summary = await slack.waitForCall('chat.postMessage', (c) => c.body.thread_ts === ts, 10_000);
    expect(String(summary.body.text ?? '') + JSON.stringify(summary.body.blocks)).toContain(id);
    await until('the card to lose its buttons', () => {
      const blocks = JSON.stringify(slack.messages.get(ts)?.blocks ?? []);
      return !blocks.includes(APPROVE_ACTION_ID) && blocks.length > 0;
    });
    expect(slack.messages.get(ts)!.reusedBlockIds).toEqual([]);
  });

  it('refuses the owner, ineligible users and duplicate votes with an ephemeral message; the card does not change', async () => {
    const submitted = await api('/v1/queries', { body: { sql: 'delete from analytics.public.customers where customer_id = 1' } });
    const id: string = submitted.json.id;
    const { ts } = await cardOf(slack, prefix, id);
    await quiet();
    const updatesOfThisCard = () => slack.callsTo('chat.update').filter((c) => c.body.ts === ts).length;
    const before = updatesOfThisCard();

    await fromSlack.click(OWNER, id, { ts });
    await until('the owner ephemeral', () => slack.ephemerals.find((e) => e.user === OWNER));
    await fromSlack.click('U0MALLORY', id, { ts });
    await until('the ineligible ephemeral', () => slack.ephemerals.find((e) => e.user === 'U0MALLORY'));
    expect((await api(`/v1/queries/${id}`)).json.status).toBe('pending_approval');
    expect(updatesOfThisCard()).toBe(before);

    // A member of the listed user group may approve; a second click is a duplicate.
    const body = fromSlack.clickBody('U0CAROL', id, { ts });
    await fromSlack.post(body);
    expect((await api(`/v1/queries/${id}?waitMs=10000`)).json.status).toBe('succeeded');
    await fromSlack.post(body);
    await until('the duplicate ephemeral', () => slack.ephemerals.find((e) => e.user === 'U0CAROL'));
  });

  it('rejects bad signatures, stale and future timestamps with 401 and no state change', async () => {
    const submitted = await api('/v1/queries', { body: { sql: "update analytics.public.orders set status = 'X' where order_id = 2" } });
    const id: string = submitted.json.id;
    const { ts } = await cardOf(slack, prefix, id);
    const body = fromSlack.clickBody('U0ALICE', id, { ts });
    const now = Math.floor(Date.now() / 1000);
    expect((await fromSlack.post(body, { secret: 'wrong-secret' })).status).toBe(401);
    // Clear of the 5-minute boundary: the receiver reads its clock a moment later (and rounds), and
    // 301 s ahead could be exactly 300 s by then (the exact boundary is covered in test/slack/verify).
    expect((await fromSlack.post(body, { timestamp: now - 330 })).status).toBe(401);
    expect((await fromSlack.post(body, { timestamp: now + 330 })).status).toBe(401);
    const unsigned = await fetch(`${env.apiUrl}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(unsigned.status).toBe(401);
    const view = await api(`/v1/queries/${id}`);
    expect(view.json.status).toBe('pending_approval');
    expect(view.json.approval?.votes ?? []).toEqual([]);
  });

  it('a correctly signed body that is not Slack JSON or a form gets 400 VALIDATION_FAILED, never a 500', async () => {
    for (const [type, body] of [
      ['application/json', '{"type": "block_actions", '],
      ['application/json', '[1, 2, 3]'],
      ['application/x-www-form-urlencoded', 'payload=%7Bnot-json'],
    ] as const) {
      const res = await fromSlack.post(body, { contentType: type });
      expect(res.status, body).toBe(400);
      expect((JSON.parse(res.text) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('deny opens a modal; the reason is required; the agent sees the reason', async () => {
    const submitted = await api('/v1/queries', { body: { sql: 'truncate table analytics.public.customers' } });
    const id: string = submitted.json.id;
    const { ts } = await cardOf(slack, prefix, id);
    await fromSlack.click('U0ALICE', id, { ts }, 'deny');
    const modal = await until('the deny modal', () => slack.views.find((v) => v.view.private_metadata === id));
    const res = await fromSlack.denyReason('U0ALICE', id, '   ', modal.id);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as { response_action?: string }).response_action).toBe('errors');
    expect((await fromSlack.denyReason('U0ALICE', id, 'Truncating customers loses data; filter by segment instead.', modal.id)).status).toBe(200);
    const view = await api(`/v1/queries/${id}?waitMs=5000`);
    expect(view.json.status).toBe('rejected');
    expect(JSON.stringify(view.json)).toContain('filter by segment instead');
    expect(executed.some((s) => s.startsWith('truncate'))).toBe(false);
  });

  it('cancel by the agent withdraws the request and the card says so', async () => {
    const submitted = await api('/v1/queries', { body: { sql: 'delete from analytics.public.customers where customer_id = 3' } });
    const id: string = submitted.json.id;
    const { ts } = await cardOf(slack, prefix, id);
    const cancelled = await api(`/v1/queries/${id}/cancel`, { body: {} });
    expect(cancelled.json.status).toBe('cancelled');
    await until('the card to say withdrawn', () => {
      const blocks = JSON.stringify(slack.messages.get(ts)?.blocks ?? []);
      return !blocks.includes(APPROVE_ACTION_ID) && /withdr/i.test(blocks);
    });
  });

  it('Slack answering 429 and then 200 posts the card exactly once', async () => {
    await quiet();
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const submitted = await api('/v1/queries', { body: { sql: 'delete from analytics.public.customers where customer_id = 4' } });
    const id: string = submitted.json.id;
    await cardOf(slack, prefix, id);
    const cards = [...slack.messages.values()].filter((m) => m.thread_ts === undefined && JSON.stringify(m.blocks).includes(id));
    expect(cards).toHaveLength(1);
    const refused = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 429);
    expect(refused.some((c) => JSON.stringify(c.body).includes(id))).toBe(true);
    const accepted = slack.calls.find((c) => c.method === 'chat.postMessage' && c.ok && JSON.stringify(c.body).includes(id))!;
    // Retry-After: 1 was honoured.
    expect(accepted.at - refused.at(-1)!.at).toBeGreaterThanOrEqual(900);
  });

  it('a 20 KB statement: the card stays within limits and the full SQL is in the thread', async () => {
    const lines = Array.from({ length: 520 }, (_, i) => `  or customer_id = ${i} -- candidate ${String(i).padStart(4, '0')}`);
    const sql = `delete from analytics.public.customers\nwhere customer_id = -1\n${lines.join('\n')}`;
    expect(sql.length).toBeGreaterThan(20_000);
    const submitted = await api('/v1/queries', { body: { sql } });
    const id: string = submitted.json.id;
    const { ts } = await cardOf(slack, prefix, id);
    const thread = await until('the SQL in the thread', () => {
      const parts = [...slack.messages.values()].filter((m) => m.thread_ts === ts).map((m) => JSON.stringify(m.blocks));
      const all = parts.join('');
      return all.includes('candidate 0519') ? parts : undefined;
    });
    expect(thread.length).toBeGreaterThan(0);
    const failed = slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.ok && JSON.stringify(c.body).includes(id));
    expect(failed.map((c) => `${c.error}: ${JSON.stringify(c.body).slice(0, 300)}`)).toEqual([]);
  });

  it('/airlock pending lists waiting requests; show summarises one', async () => {
    const submitted = await api('/v1/queries', { body: { sql: 'delete from analytics.public.customers where customer_id = 5' } });
    const id: string = submitted.json.id;
    await cardOf(slack, prefix, id);
    const res = await fromSlack.command('U0ALICE', 'pending');
    expect(res.status).toBe(200);
    expect(res.text).toContain(id);
    expect((await fromSlack.command('U0ALICE', `show ${id}`)).text).toContain(id);
    expect((await fromSlack.command('U0ALICE', 'search customers')).text).toContain(id);
  });

  it('50 concurrent Approve clicks from eligible users: exactly one execution, a consistent card', async () => {
    const sql = 'truncate table hr.core.employees';
    const submitted = await api('/v1/queries', { body: { sql } });
    const id: string = submitted.json.id;
    const { ts } = await cardOf(slack, prefix, id);
    const statuses = await Promise.all(MANY.map((u) => fromSlack.click(u, id, { ts })));
    expect(statuses.every((st) => st === 200)).toBe(true);
    const done = await api(`/v1/queries/${id}?waitMs=10000`);
    expect(done.json.status).toBe('succeeded');
    expect(done.json.approval.votes.filter((v: { vote: string }) => v.vote === 'approve')).toHaveLength(2);
    expect(executed.filter((e) => e === sql)).toHaveLength(1);
    // Everyone after the quorum was told so, privately.
    await until('48 ephemerals', () => (slack.ephemerals.filter((e) => MANY.includes(e.user)).length >= 48 ? true : undefined));
    await until('the final card', () => {
      const blocks = JSON.stringify(slack.messages.get(ts)?.blocks ?? []);
      return !blocks.includes(APPROVE_ACTION_ID) && blocks.length > 2;
    });
    await quiet();
    expect(executed.filter((e) => e === sql)).toHaveLength(1);
    expect([...slack.messages.values()].filter((m) => m.thread_ts === ts)).toHaveLength(1);
  });

  it('Slack down for a while (5xx): the card is posted once it is back', async () => {
    await quiet();
    slack.failNext('chat.postMessage', { status: 503 }, 3);
    const submitted = await api('/v1/queries', { body: { sql: 'delete from analytics.public.customers where customer_id = 6' } });
    const id: string = submitted.json.id;
    await cardOf(slack, prefix, id);
    expect(slack.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 503)).toHaveLength(3);
    expect([...slack.messages.values()].filter((m) => m.thread_ts === undefined && JSON.stringify(m.blocks).includes(id))).toHaveLength(1);
  }, 20_000);

  it('an unanswered request expires: the agent sees expired, the card says so, a late click is refused', async () => {
    const submitted = await api('/v1/queries', { body: { sql: 'delete from analytics.public.expiring where id = 1' } });
    const id: string = submitted.json.id;
    expect(submitted.json.decision.approvals.expiresInSeconds).toBe(2);
    const { ts } = await cardOf(slack, prefix, id);
    const view = await until('expired', async () => {
      const v = await api(`/v1/queries/${id}`);
      return v.json.status === 'expired' ? v : undefined;
    });
    expect(view.json.error.code).toBe('APPROVAL_EXPIRED');
    await until('the card to say expired', () => {
      const blocks = JSON.stringify(slack.messages.get(ts)?.blocks ?? []);
      return !blocks.includes(APPROVE_ACTION_ID) && /expired/i.test(blocks);
    });
    await fromSlack.click('U0ALICE', id, { ts });
    await until('the late-click ephemeral', () => slack.ephemerals.find((e) => e.user === 'U0ALICE' && /expired/i.test(e.text)));
  }, 20_000);

  it('two Airlock processes on one Redis: one posts the card, the other receives the click and updates it', async () => {
    const other = await buildApp(sharedConfig, { roles: ['api', 'slack'], logger: createLogger({ level: 'silent' }), policy: sharedPolicy });
    try {
      const otherUrl = (await other.listen())!;
      const submitted = await api('/v1/queries', { body: { sql: 'delete from analytics.public.customers where customer_id = 7' } });
      const id: string = submitted.json.id;
      const { ts } = await cardOf(slack, prefix, id);
      expect(await slackClient({ url: otherUrl, secret: SECRET, channel: CHANNEL }).click('U0ALICE', id, { ts })).toBe(200);
      const done = await api(`/v1/queries/${id}?waitMs=10000`);
      expect(done.json.status).toBe('succeeded');
      await until('the card updated', () => !JSON.stringify(slack.messages.get(ts)?.blocks ?? [APPROVE_ACTION_ID]).includes(APPROVE_ACTION_ID));
    } finally {
      await other.close();
    }
  });

  it('an absent Slack never stops start-up', async () => {
    const config = loadConfig({ REDIS_URL, AIRLOCK_REDIS_PREFIX: prefix, AIRLOCK_PORT: '0', AIRLOCK_LOG_LEVEL: 'silent', SLACK_BOT_TOKEN: 'xoxb-none', SLACK_SIGNING_SECRET: SECRET, SLACK_APPROVAL_CHANNEL: CHANNEL, SLACK_API_URL: 'http://127.0.0.1:9/api/' });
    const app = await buildApp(config, { roles: ['api', 'slack'], logger: createLogger({ level: 'silent' }), policy: sharedPolicy });
    try {
      const url = (await app.listen())!;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
