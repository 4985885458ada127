/**
 * Approvals over Slack's Socket Mode, end to end and all real except Slack
 * itself: dev OIDC issuer, the API and worker on real Redis and BullMQ, the
 * emulator through the real snowflake-sdk, and Bolt's Socket Mode client
 * (`SLACK_APP_TOKEN`). Slack is two local fakes in test/support: the Web API
 * (which answers `apps.connections.open` with the fake socket server's URL) and
 * the Socket Mode server, which says hello, delivers envelopes and records the
 * acks the app sends back.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/build.ts';
import type { DevEnvironment } from '../../src/app/dev.ts';
import { loadConfig } from '../../src/config/env.ts';
import type { ParsedPolicy } from '../../src/policy/schema.ts';
import { APPROVE_ACTION_ID, DENY_REASON_BLOCK_ID } from '../../src/slack/presenters.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { cleanupPrefix, REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/until.ts';
import { recordingWarehouse } from '../support/warehouse.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { captureLogs } from '../support/logs.ts';
import { shippedPolicy } from '../support/policies.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { startFakeSocketMode, type FakeSocketMode } from '../support/fake-socket-mode.ts';
import { cardClickPayload, denyReasonPayload, type CardButton } from '../support/slack-client.ts';
import { cardOf } from '../support/slack-harness.ts';
import { slashCommandPayload } from '../support/slack-sign.ts';

const APP_TOKEN = 'xapp-1-A0AIRLOCK-1234567890-0123456789abcdef';
const CHANNEL = 'C0APPROVALS';
const OWNER = 'U0OWNER';
const prefix = uniquePrefix('slack-socket-e2e');
let env: DevEnvironment;
let slack: FakeSlack;
let socket: FakeSocketMode;
let suite: DevSuite;
let api: ApiClient;
let policy: ParsedPolicy;
const executed: string[] = [];

/** A button click on a card, delivered over the socket as Slack does (`interactive`). */
function click(user: string, id: string, ts: string, button: CardButton = 'approve'): string {
  return socket.send({
    type: 'interactive',
    payload: cardClickPayload(user, id, { channel: CHANNEL, ts }, button),
    accepts_response_payload: false,
  });
}

function submitDenyReason(user: string, id: string, reason: string): string {
  const modal = slack.views.find((v) => v.view.private_metadata === id);
  return socket.send({
    type: 'interactive',
    payload: denyReasonPayload(user, id, reason, modal?.id),
    accepts_response_payload: true,
  });
}

/** A port nothing listens on: Slack unreachable. */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  slack = await startFakeSlack();
  socket = await startFakeSocketMode();
  slack.setSocketModeUrl(socket.url);
  slack.setUser('U0ALICE', { email: 'alice@example.com', name: 'alice' });
  slack.setUser('U0BOB', { email: 'bob@example.com', name: 'bob' });
  slack.setUser(OWNER, { email: 'owner@example.com', name: 'owner' });
  policy = await shippedPolicy({ dataOwners: { users: ['U0ALICE', 'U0BOB', OWNER] }, security: { users: ['U0ALICE', 'U0BOB'] } });
  suite = await startDevSuite({
    prefix,
    env: { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_APP_TOKEN: APP_TOKEN, SLACK_APPROVAL_CHANNEL: CHANNEL, SLACK_API_URL: slack.url },
    policy,
    wrapWarehouse: recordingWarehouse(executed),
  });
  env = suite.env;
  api = apiClient(env.apiUrl, await env.mintToken({ agent: 'etl-bot', owner: 'owner@example.com', groups: ['analysts'] }));
  await socket.waitForConnection(1, 10_000);
}, 120_000);

afterAll(async () => {
  await suite?.close();
  await socket?.close();
  await slack?.close();
});

describe('approvals over Socket Mode', () => {
  it('connects with the app token through apps.connections.open at SLACK_API_URL; no HTTP endpoint is mounted', async () => {
    expect(slack.callsTo('apps.connections.open').length).toBeGreaterThanOrEqual(1);
    expect(socket.openConnections()).toBe(1);
    // Socket Mode only: nothing answers Slack's HTTP requests.
    const res = await fetch(`${env.apiUrl}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'payload=%7B%7D' });
    await res.text();
    expect(res.status).toBe(404);
  });

  it('Approve over the socket: acked within 3 s, the query runs, the card is updated', async () => {
    const sql = 'delete from analytics.public.customers where customer_id = 11';
    const submitted = await api('/v1/queries', { body: { sql, purpose: 'remove a test customer' } });
    expect(submitted.status).toBe(202);
    expect(submitted.json.status).toBe('pending_approval');
    const id: string = submitted.json.id;
    const { ts, message } = await cardOf(slack, prefix, id);
    expect(JSON.stringify(message.blocks)).toContain(APPROVE_ACTION_ID);

    const envelope = click('U0ALICE', id, ts);
    const ack = await socket.waitForAck(envelope, 3_000);
    expect(ack.afterMs).toBeLessThan(3_000);
    expect(ack.payload).toBeUndefined();

    const done = await api(`/v1/queries/${id}?waitMs=10000`);
    expect(done.json.status).toBe('succeeded');
    expect(done.json.approval.votes).toEqual([expect.objectContaining({ vote: 'approve' })]);
    expect(executed.filter((s) => s === sql)).toHaveLength(1);

    await until('the card to lose its buttons', () => {
      const m = slack.messages.get(ts);
      const blocks = JSON.stringify(m?.blocks ?? []);
      return m && m.edits > 0 && !blocks.includes(APPROVE_ACTION_ID) ? true : undefined;
    });
    await slack.waitForCall('chat.postMessage', (c) => c.body.thread_ts === ts, 10_000);
  });

  it('Deny over the socket: the modal opens, an empty reason is refused in the ack, the reason reaches the agent', async () => {
    const sql = 'delete from analytics.public.customers where customer_id = 12';
    const submitted = await api('/v1/queries', { body: { sql } });
    const id: string = submitted.json.id;
    const { ts } = await cardOf(slack, prefix, id);

    const clicked = click('U0BOB', id, ts, 'deny');
    expect((await socket.waitForAck(clicked, 3_000)).afterMs).toBeLessThan(3_000);
    await until('the deny modal', () => slack.views.find((v) => v.view.private_metadata === id));

    // The view's answer travels in the ack's payload.
    const empty = await socket.waitForAck(submitDenyReason('U0BOB', id, '   '), 3_000);
    expect(empty.payload).toMatchObject({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: expect.any(String) } });
    expect((await api(`/v1/queries/${id}`)).json.status).toBe('pending_approval');

    const reason = 'Customer 12 is under legal hold; do not delete.';
    const denied = await socket.waitForAck(submitDenyReason('U0BOB', id, reason), 3_000);
    expect(denied.afterMs).toBeLessThan(3_000);
    expect(denied.payload?.response_action).toBeUndefined();

    const view = await api(`/v1/queries/${id}?waitMs=5000`);
    expect(view.json.status).toBe('rejected');
    expect(view.json.error.code).toBe('APPROVAL_REJECTED');
    expect(JSON.stringify(view.json)).toContain('legal hold');
    expect(executed).not.toContain(sql);
    await until('the card to say rejected', () => {
      const blocks = JSON.stringify(slack.messages.get(ts)?.blocks ?? []);
      return !blocks.includes(APPROVE_ACTION_ID) && blocks.includes('legal hold') ? true : undefined;
    });
  });

  it('/airlock over the socket answers in the ack', async () => {
    const submitted = await api('/v1/queries', { body: { sql: 'delete from analytics.public.customers where customer_id = 13' } });
    const id: string = submitted.json.id;
    await cardOf(slack, prefix, id);
    const envelope = socket.send({
      type: 'slash_commands',
      payload: slashCommandPayload({ userId: 'U0ALICE', userName: 'alice', command: '/airlock', text: `show ${id}`, channelId: CHANNEL, responseUrl: slack.responseUrl() }),
      accepts_response_payload: true,
    });
    const ack = await socket.waitForAck(envelope, 3_000);
    expect(ack.payload?.response_type).toBe('ephemeral');
    expect(JSON.stringify(ack.payload)).toContain(id);
  });

  it('reconnects when Slack asks it to (type: disconnect) and keeps working', async () => {
    const before = socket.connectionCount();
    const opened = slack.callsTo('apps.connections.open').length;
    socket.disconnectAll();
    await until('a new connection', () => (socket.connectionCount() > before && socket.openConnections() === 1 ? true : undefined), 10_000);
    expect(slack.callsTo('apps.connections.open').length).toBeGreaterThan(opened);

    const submitted = await api('/v1/queries', { body: { sql: 'delete from analytics.public.customers where customer_id = 14' } });
    const id: string = submitted.json.id;
    const { ts } = await cardOf(slack, prefix, id);
    await socket.waitForAck(click('U0ALICE', id, ts), 3_000);
    expect((await api(`/v1/queries/${id}?waitMs=10000`)).json.status).toBe('succeeded');
  });
});

describe('Socket Mode when Slack is unreachable', () => {
  it('starts anyway, logs the failure, keeps serving, and closes promptly', async () => {
    const { logger, lines } = captureLogs('warn');
    const port = await closedPort();
    const localPrefix = uniquePrefix('slack-socket-down');
    const config = loadConfig({
      REDIS_URL,
      AIRLOCK_REDIS_PREFIX: localPrefix,
      AIRLOCK_PORT: '0',
      AIRLOCK_HOST: '127.0.0.1',
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_APPROVAL_CHANNEL: CHANNEL,
      SLACK_API_URL: `http://127.0.0.1:${port}/api/`,
    });
    const app = await buildApp(config, { roles: ['api', 'slack'], logger, policy });
    try {
      const url = await app.listen();
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      // Logged through Airlock's logger (not Bolt's console), with the retry scheduled.
      const logged = await until('the connect failure to be logged', () => lines().find((l) => l.component === 'slack' && typeof l.retryInMs === 'number'), 5_000);
      expect(String(logged.err)).toMatch(/request error|fetch failed|ECONNREFUSED/i);
      // Still retrying a while later, and still serving.
      await until('a second attempt', () => lines().filter((l) => typeof l.retryInMs === 'number').length >= 2 || undefined, 5_000);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeLessThan(5_000);
      await cleanupPrefix(localPrefix);
    }
    // Nothing leaked a token into the logs.
    expect(JSON.stringify(lines())).not.toContain(APP_TOKEN);
  });

  it('connects once Slack answers again, and reconnects after a drop while Slack is failing', async () => {
    const { logger } = captureLogs('warn');
    const slack2 = await startFakeSlack();
    const socket2 = await startFakeSocketMode();
    slack2.setSocketModeUrl(socket2.url);
    slack2.failNext('apps.connections.open', { status: 503 }, 2);
    const localPrefix = uniquePrefix('slack-socket-flaky');
    const config = loadConfig({
      REDIS_URL,
      AIRLOCK_REDIS_PREFIX: localPrefix,
      AIRLOCK_PORT: '0',
      AIRLOCK_HOST: '127.0.0.1',
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_APPROVAL_CHANNEL: CHANNEL,
      SLACK_API_URL: slack2.url,
    });
    const app = await buildApp(config, { roles: ['api', 'slack'], logger, policy });
    try {
      await app.listen();
      await socket2.waitForConnection(1, 15_000);
      const refused = () => slack2.calls.filter((c) => c.method === 'apps.connections.open' && c.status === 503);
      expect(refused()).toHaveLength(2);

      // Slack drops the connection and apps.connections.open fails twice more: no crash, no unhandled rejection.
      slack2.failNext('apps.connections.open', { status: 503 }, 2);
      socket2.disconnectAll();
      await until('the second connection', () => (socket2.connectionCount() === 2 && socket2.openConnections() === 1 ? true : undefined), 15_000);
      expect(refused()).toHaveLength(4);
      const envelope = socket2.send({ type: 'slash_commands', payload: { command: '/airlock', text: 'help', user_id: 'U0ALICE', channel_id: CHANNEL, team_id: 'T0AIRLOCK' } });
      expect((await socket2.waitForAck(envelope, 3_000)).payload?.response_type).toBe('ephemeral');
    } finally {
      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeLessThan(5_000);
      await until('the socket to close', () => (socket2.openConnections() === 0 ? true : undefined), 5_000);
      await socket2.close();
      await slack2.close();
      await cleanupPrefix(localPrefix);
    }
  }, 45_000);
});
