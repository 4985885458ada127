/**
 * The fake Slack Web API, driven by the real WebClient (@slack/web-api via
 * @slack/bolt), and the request signing helpers checked by Bolt's verifier.
 */
import { verifySlackRequest, webApi } from '@slack/bolt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { QueryRecord } from '../../src/queries/types.ts';
import { approvalCard, denyReasonModal } from '../../src/slack/presenters.ts';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.ts';
import {
  blockActionsPayload,
  interactivityBody,
  signSlackRequest,
  signedFormRequest,
  slashCommandBody,
  triggerId,
  viewSubmissionPayload,
} from '../support/slack-sign.ts';

const TOKEN = 'xoxb-test-token';
let fake: FakeSlack;
let client: InstanceType<typeof webApi.WebClient>;

/** WebClient logs Slack's refusals at error level; these tests provoke them on purpose. */
const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => webApi.LogLevel.ERROR,
  setName() {},
};

/** A client that fails fast: no retries, so faults surface as errors. */
const strictClient = (extra: ConstructorParameters<typeof webApi.WebClient>[1] = {}) =>
  new webApi.WebClient(TOKEN, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: quiet, ...extra });

const platformError = async (p: Promise<unknown>): Promise<{ code?: string; data?: Record<string, unknown> }> => {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; data?: Record<string, unknown> };
  }
  throw new Error('expected the call to fail');
};

const rec: QueryRecord = {
  id: 'q_1',
  status: 'pending_approval',
  sql: 'DROP TABLE ANALYTICS.PUBLIC.CUSTOMERS',
  requester: { id: 'agent:ci', name: 'ci', owner: 'ana@example.com', groups: [] },
  decision: {
    action: 'review',
    risk: 'high',
    reasons: [{ code: 'DESTRUCTIVE_DDL', message: 'DROP TABLE', statement: 0 }],
    approvals: { required: 2, groups: ['data-owners'] },
    statements: [{ kind: 'drop', tables: ['ANALYTICS.PUBLIC.CUSTOMERS'], columns: [], complete: true }],
    fingerprint: 'f'.repeat(64),
    complete: true,
  },
  createdAt: '2025-03-04T09:30:00.000Z',
  updatedAt: '2025-03-04T09:30:00.000Z',
  readOnly: false,
};
const approval = { required: 2, groups: ['data-owners'], fingerprint: 'f'.repeat(64), expiresAt: '2025-03-04T10:30:00.000Z', votes: [] };

beforeAll(async () => {
  fake = await startFakeSlack({ token: TOKEN });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  client = strictClient();
});

describe('fake Slack Web API through the real WebClient', () => {
  it('serves base URLs ending in /api/ and answers auth.test', async () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, team_id: 'T0AIRLOCK', user_id: 'U0AIRLOCKBOT', bot_id: 'B0AIRLOCK' });
    expect(fake.calls).toEqual([expect.objectContaining({ method: 'auth.test', status: 200, ok: true })]);
  });

  it('requires a bearer token: not_authed without, invalid_auth with a wrong one', async () => {
    const anon = new webApi.WebClient(undefined, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: quiet });
    expect((await platformError(anon.auth.test())).data).toMatchObject({ ok: false, error: 'not_authed' });
    const wrong = new webApi.WebClient('xoxb-wrong', { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: quiet });
    const err = await platformError(wrong.auth.test());
    expect(err.code).toBe(webApi.ErrorCode.PlatformError);
    expect(err.data).toMatchObject({ error: 'invalid_auth' });
  });

  it('posts a card (blocks arrive form-encoded as JSON), updates it, threads under it, links to it', async () => {
    const card = approvalCard({ record: rec, approval, now: new Date('2025-03-04T09:31:00Z') });
    const posted = await client.chat.postMessage({ channel: 'C0APPROVALS', text: card.text, blocks: card.blocks });
    expect(posted).toMatchObject({ ok: true, channel: 'C0APPROVALS' });
    const ts = posted.ts as string;
    expect(ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fake.messages.get(ts)).toMatchObject({ channel: 'C0APPROVALS', text: card.text, blocks: card.blocks, edits: 0 });

    const after = approvalCard({ record: rec, approval: { ...approval, votes: [{ voter: { slackUserId: 'U1' }, vote: 'approve', at: '2025-03-04T09:40:00Z' }] }, now: new Date('2025-03-04T09:40:00Z') });
    await client.chat.update({ channel: 'C0APPROVALS', ts, text: after.text, blocks: after.blocks });
    expect(fake.messages.get(ts)).toMatchObject({ edits: 1, blocks: after.blocks, reusedBlockIds: [] });

    // Reusing block ids is allowed by Slack but recorded, so tests can insist on fresh ones.
    await client.chat.update({ channel: 'C0APPROVALS', ts, text: after.text, blocks: after.blocks });
    expect(fake.messages.get(ts)?.reusedBlockIds.length).toBe(after.blocks.length);

    const reply = await client.chat.postMessage({ channel: 'C0APPROVALS', thread_ts: ts, text: 'audit summary' });
    expect(fake.messages.get(reply.ts as string)).toMatchObject({ thread_ts: ts, text: 'audit summary' });

    const link = await client.chat.getPermalink({ channel: 'C0APPROVALS', message_ts: ts });
    expect(link.permalink).toBe(`${fake.origin}/archives/C0APPROVALS/p${ts.replace('.', '')}`);

    expect(fake.callsTo('chat.postMessage')).toHaveLength(2);
    expect((await fake.waitForCall('chat.update')).body.ts).toBe(ts);
  });

  it('answers message_not_found and thread_not_found for unknown messages', async () => {
    expect((await platformError(client.chat.update({ channel: 'C1', ts: '1.000001', text: 'x' }))).data).toMatchObject({ error: 'message_not_found' });
    expect((await platformError(client.chat.postMessage({ channel: 'C1', thread_ts: '1.000001', text: 'x' }))).data).toMatchObject({ error: 'thread_not_found' });
    expect((await platformError(client.chat.getPermalink({ channel: 'C1', message_ts: '1.000001' }))).data).toMatchObject({ error: 'message_not_found' });
  });

  it('refuses blocks beyond Block Kit limits as Slack does', async () => {
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' as const }));
    const err = await platformError(client.chat.postMessage({ channel: 'C1', text: 'x', blocks: tooMany }));
    expect(err.data).toMatchObject({ ok: false, error: 'invalid_blocks', errors: ['must be less than 51 items (is 51) [json-pointer:/blocks]'] });

    const longSection = [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'x'.repeat(3001) } }];
    expect((await platformError(client.chat.postMessage({ channel: 'C1', text: 'x', blocks: longSection }))).data).toMatchObject({ error: 'invalid_blocks' });

    const bulky = Array.from({ length: 5 }, () => ({ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'x'.repeat(2900) } }));
    expect((await platformError(client.chat.postMessage({ channel: 'C1', text: 'x', blocks: bulky }))).data).toMatchObject({ error: 'msg_blocks_too_long' });

    expect((await platformError(client.chat.postMessage({ channel: 'C1', text: 'x'.repeat(40_001) }))).data).toMatchObject({ error: 'msg_too_long' });
    expect((await platformError(client.chat.postMessage({ channel: 'C1', text: '' }))).data).toMatchObject({ error: 'no_text' });
    expect(fake.messages.size).toBe(0);
    expect(fake.calls.every((c) => c.status === 200 && !c.ok)).toBe(true);
  });

  it('429 with Retry-After: the default WebClient waits and retries; rejectRateLimitedCalls surfaces retryAfter', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const patient = new webApi.WebClient(TOKEN, { slackApiUrl: fake.url, logger: quiet });
    const t0 = Date.now();
    const res = await patient.chat.postMessage({ channel: 'C1', text: 'hi' });
    expect(res.ok).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(fake.calls.map((c) => [c.method, c.status])).toEqual([
      ['chat.postMessage', 429],
      ['chat.postMessage', 200],
    ]);
    expect(fake.messages.size).toBe(1);

    fake.failNext('chat.update', { status: 429, retryAfter: 7 });
    const eager = strictClient({ rejectRateLimitedCalls: true });
    const err = (await platformError(eager.chat.update({ channel: 'C1', ts: res.ts as string, text: 'x' }))) as { code?: string; retryAfter?: number };
    expect(err.code).toBe(webApi.ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBe(7);
  });

  it('5xx for a while, then back: HTTPError without retries, success after', async () => {
    fake.failNext('chat.postMessage', { status: 503 }, 2);
    for (let i = 0; i < 2; i++) {
      const err = (await platformError(client.chat.postMessage({ channel: 'C1', text: 'hi' }))) as { code?: string; statusCode?: number };
      expect(err.code).toBe(webApi.ErrorCode.HTTPError);
      expect(err.statusCode).toBe(503);
    }
    expect((await client.chat.postMessage({ channel: 'C1', text: 'hi' })).ok).toBe(true);
    expect(fake.messages.size).toBe(1);
  });

  it('injects ok:false errors and delays on demand', async () => {
    fake.failNext('users.info', { error: 'ratelimited' });
    expect((await platformError(client.users.info({ user: 'U1' }))).data).toMatchObject({ error: 'ratelimited' });
    fake.failNext('auth.test', { delayMs: 200 });
    const t0 = Date.now();
    await client.auth.test();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('knows users, user groups and channel members', async () => {
    fake.setUser('U1', { email: 'Bo@Example.com', name: 'bo' });
    fake.setUser('U2', { email: 'cy@example.com', name: 'cy' });
    fake.setUsergroupMembers('S0DATA', ['U1', 'U2']);

    expect((await client.users.info({ user: 'U1' })).user).toMatchObject({ id: 'U1', name: 'bo', profile: { email: 'Bo@Example.com' } });
    expect((await client.users.lookupByEmail({ email: 'bo@example.com' })).user?.id).toBe('U1');
    expect((await platformError(client.users.lookupByEmail({ email: 'nobody@example.com' }))).data).toMatchObject({ error: 'users_not_found' });
    expect((await platformError(client.users.info({ user: 'U404' }))).data).toMatchObject({ error: 'user_not_found' });
    expect((await client.usergroups.users.list({ usergroup: 'S0DATA' })).users).toEqual(['U1', 'U2']);
    expect((await platformError(client.usergroups.users.list({ usergroup: 'S404' }))).data).toMatchObject({ error: 'no_such_subteam' });

    fake.setChannelMembers('C1', ['U1', 'U2', 'U3']);
    const page1 = await client.conversations.members({ channel: 'C1', limit: 2 });
    expect(page1.members).toEqual(['U1', 'U2']);
    const page2 = await client.conversations.members({ channel: 'C1', limit: 2, cursor: page1.response_metadata?.next_cursor as string });
    expect(page2).toMatchObject({ members: ['U3'], response_metadata: { next_cursor: '' } });
  });

  it('posts ephemerals', async () => {
    await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'You may not approve your own agent.' });
    expect(fake.ephemerals).toEqual([expect.objectContaining({ channel: 'C1', user: 'U1', text: 'You may not approve your own agent.' })]);
  });

  it('opens the deny modal once per fresh trigger id', async () => {
    const trigger = triggerId();
    const res = await client.views.open({ trigger_id: trigger, view: denyReasonModal('q_1') });
    expect(res.view).toMatchObject({ callback_id: 'airlock_deny_reason', private_metadata: 'q_1' });
    expect(fake.views).toHaveLength(1);
    expect((await platformError(client.views.open({ trigger_id: trigger, view: denyReasonModal('q_1') }))).data).toMatchObject({ error: 'exchanged_trigger_id' });
    expect((await platformError(client.views.open({ trigger_id: triggerId(Date.now() - 4_000), view: denyReasonModal('q_1') }))).data).toMatchObject({ error: 'expired_trigger_id' });
    const bad = { ...denyReasonModal('q_1'), title: { type: 'plain_text' as const, text: 'a title far too long for Slack' } };
    expect((await platformError(client.views.open({ trigger_id: triggerId(), view: bad }))).data).toMatchObject({ error: 'invalid_arguments' });
  });

  it('files.uploadV2 lands the content in a thread', async () => {
    const parent = await client.chat.postMessage({ channel: 'C1', text: 'card' });
    const sql = 'SELECT 1;\n'.repeat(3000);
    await client.files.uploadV2({ channel_id: 'C1', thread_ts: parent.ts as string, content: sql, filename: 'q_1.sql', title: 'Full SQL' });
    expect(fake.files).toEqual([expect.objectContaining({ filename: 'q_1.sql', title: 'Full SQL', content: sql, channel: 'C1', thread_ts: parent.ts })]);
  });

  it('accepts JSON bodies, answers unknown_method, and collects response_url posts', async () => {
    const res = await fetch(`${fake.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C1', text: 'json', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }] }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C1' });
    expect((await platformError(client.apiCall('nope.nothing'))).data).toMatchObject({ error: 'unknown_method' });

    const url = fake.responseUrl('cmd1');
    await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', text: 'done' }) });
    expect(fake.responses).toEqual([expect.objectContaining({ path: '/hooks/T0AIRLOCK/cmd1', body: { response_type: 'ephemeral', text: 'done' } })]);
  });

  it('waitForCall resolves on a later call and times out with the calls it saw', async () => {
    const waiting = fake.waitForCall('chat.postMessage', (c) => c.body.text === 'later');
    await client.chat.postMessage({ channel: 'C1', text: 'sooner' });
    await client.chat.postMessage({ channel: 'C1', text: 'later' });
    expect((await waiting).body.text).toBe('later');
    await expect(fake.waitForCall('views.open', undefined, 50)).rejects.toThrow(/no successful views.open within 50 ms \(calls: chat.postMessage, chat.postMessage\)/);
  });
});

describe('signed Slack requests', () => {
  const secret = 'signing-secret';

  it('signs as Slack does: Bolt verifies it, and refuses a tampered body or an old timestamp', () => {
    const body = interactivityBody(blockActionsPayload({ userId: 'U1', actionId: 'airlock_approve', value: 'q_1', channel: 'C1', messageTs: '1.000001' }));
    const headers = signSlackRequest({ secret, body });
    const verify = (b: string, h: typeof headers, nowMilliseconds = Date.now()) =>
      verifySlackRequest({ signingSecret: secret, body: b, headers: { 'x-slack-signature': h['x-slack-signature'], 'x-slack-request-timestamp': Number(h['x-slack-request-timestamp']) }, nowMilliseconds });
    expect(() => verify(body, headers)).not.toThrow();
    expect(() => verify(`${body}x`, headers)).toThrow();
    const old = signSlackRequest({ secret, body, timestamp: Math.floor(Date.now() / 1000) - 400 });
    expect(() => verify(body, old)).toThrow();
  });

  it('computes the documented v0 signature', () => {
    // Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack).
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest({ secret: '8f742231b10e8888abcd99yyyzzz85a5', body, timestamp: 1531420618 })).toEqual({
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      'x-slack-request-timestamp': '1531420618',
    });
  });

  it('builds block_actions, view_submission and slash command bodies as Slack sends them', () => {
    const click = blockActionsPayload({ userId: 'U1', actionId: 'airlock_deny', value: 'q_1', channel: 'C1', messageTs: '1.000001', triggerId: 't.1.x' });
    const form = new URLSearchParams(interactivityBody(click));
    expect([...form.keys()]).toEqual(['payload']);
    expect(JSON.parse(form.get('payload') as string)).toMatchObject({
      type: 'block_actions',
      user: { id: 'U1' },
      trigger_id: 't.1.x',
      channel: { id: 'C1' },
      container: { type: 'message', message_ts: '1.000001', channel_id: 'C1' },
      message: { ts: '1.000001' },
      actions: [{ type: 'button', action_id: 'airlock_deny', value: 'q_1', style: 'danger' }],
    });

    const submit = viewSubmissionPayload({ userId: 'U1', callbackId: 'airlock_deny_reason', privateMetadata: 'q_1', values: { b: { a: 'too broad' } } });
    expect(submit).toMatchObject({
      type: 'view_submission',
      view: { callback_id: 'airlock_deny_reason', private_metadata: 'q_1', state: { values: { b: { a: { type: 'plain_text_input', value: 'too broad' } } } } },
    });

    const cmd = new URLSearchParams(slashCommandBody({ userId: 'U1', command: '/airlock', text: 'show q_1', channelId: 'C1' }));
    expect(Object.fromEntries(cmd)).toMatchObject({ command: '/airlock', text: 'show q_1', user_id: 'U1', channel_id: 'C1' });
    expect(cmd.get('trigger_id')).toMatch(/^\d{13}\.\d+\.[0-9a-f]{32}$/);

    const req = signedFormRequest({ secret, body: cmd.toString(), timestamp: 1_700_000_000 });
    expect(req.headers).toMatchObject({ 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': '1700000000' });
  });
});
