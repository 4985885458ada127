/**
 * Class 8 of the red-team issue: clicks and commands out of place.
 *
 * The attacker is a Slack member (or whoever can get a signed payload to
 * `/slack/events`): an Approve click carrying another channel or message than
 * the query's card, a click copied from another card, a deny modal submission
 * for another query or by another user, and `/airlock pending|show|search` run
 * by someone who is neither approver nor reviewer, from any channel. Real
 * Redis, the real receiver and Bolt, correctly signed requests; only Slack's
 * Web API is the local fake.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskSqlLiterals } from '../../src/slack/display.ts';
import { cleanupPrefix, uniquePrefix } from '../support/redis.ts';
import { CHANNEL, startHarness, type Harness } from '../support/slack-harness.ts';
import { until } from '../support/until.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';

const prefix = uniquePrefix('sec-slack-binding');
let slack: FakeSlack;
let h: Harness;
let token: string;

const WRITE = (n: number) => `update analytics.public.orders set status = 'X' where order_id = ${n}`;
/** A review query full of literals that must never reach a /airlock answer. */
const PII_SQL =
  "update analytics.public.customers set notes = 'call Jane at 555-867-5309' " +
  "where ssn = '123-45-6789' and email = 'jane.doe@example.com' and customer_id = 424242 -- card 4111 1111 1111 1111";
const PII = ['555-867-5309', '123-45-6789', 'jane.doe@example.com', '424242', '4111 1111 1111 1111', 'call Jane'];
const OWNER_EMAIL = 'owner@example.com';

beforeAll(async () => {
  slack = await startFakeSlack();
  for (const [id, name] of [['U0ALICE', 'alice'], ['U0BOB', 'bob'], ['U0CAROL', 'carol'], ['U0MALLORY', 'mallory'], ['U0REVIEWER', 'reviewer'], ['U0AUDITOR', 'auditor'], ['U0OWNER', 'owner']] as const) {
    slack.setUser(id, { email: id === 'U0OWNER' ? OWNER_EMAIL : `${name}@example.com`, name });
  }
  slack.setUsergroupMembers('S0OWNERS', ['U0CAROL']);
  slack.setUsergroupMembers('S0REVIEW', ['U0AUDITOR']);
  h = await startHarness({
    slack,
    prefix: `${prefix}-main`,
    approvers: { users: ['U0ALICE', 'U0BOB'], usergroups: ['S0OWNERS'] },
    env: { AIRLOCK_SLACK_REVIEWERS: 'U0REVIEWER,S0REVIEW' },
  });
  token = await h.token(OWNER_EMAIL);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await slack?.close();
  await cleanupPrefix(prefix);
});

async function pending(sql: string) {
  const submitted = await h.submit(token, sql);
  expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
  const id: string = submitted.json.id;
  return { id, card: await h.cardOf(id) };
}

/** Assert nothing counted and a vote_refused/out_of_place event was recorded for `user`. */
async function notCounted(id: string, user: string): Promise<void> {
  const events = await until('the refusal in the session log', async () => {
    const e = await h.sessionEvents(id);
    return e.some((x) => x.type === 'vote_refused' && x.data.voter.slackUserId === user) ? e : undefined;
  });
  const refusal = events.find((x) => x.type === 'vote_refused' && x.data.voter.slackUserId === user)!;
  expect(refusal.data.outcome).toBe('out_of_place');
  expect(events.filter((x) => x.type === 'vote')).toEqual([]);
  const view = await h.view(token, id);
  expect(view.status).toBe('pending_approval');
  expect(view.approval.votes).toEqual([]);
}

describe('an Approve click counts only from the card posted for its query', () => {
  const variants: Array<[string, (card: { channel: string; ts: string }) => { channel: string; ts: string; payload?: (p: Record<string, any>) => void }]> = [
    ['another channel, same ts', (c) => ({ channel: 'C0ELSEWHERE', ts: c.ts })],
    ['a DM with the bot, same ts', (c) => ({ channel: 'D0DIRECT', ts: c.ts })],
    ['the card channel, another message', (c) => ({ channel: c.channel, ts: '1700000000.999999' })],
    ['the card channel, ts off by one microsecond', (c) => ({ channel: c.channel, ts: c.ts.replace(/\d$/, (d) => String((Number(d) + 1) % 10)) })],
    ['channel.id right, container.channel_id another', (c) => ({ channel: c.channel, ts: c.ts, payload: (p) => (p.container.channel_id = 'C0ELSEWHERE') })],
    ['container.message_ts right, message.ts another', (c) => ({ channel: c.channel, ts: c.ts, payload: (p) => (p.message.ts = '1600000000.000001') })],
    ['container.message_ts another, message.ts right', (c) => ({ channel: c.channel, ts: c.ts, payload: (p) => (p.container.message_ts = '1600000000.000001') })],
    ['no channel at all', (c) => ({ channel: c.channel, ts: c.ts, payload: (p) => { delete p.channel; delete p.container.channel_id; } })],
    ['no message ts at all', (c) => ({ channel: c.channel, ts: c.ts, payload: (p) => { delete p.container.message_ts; delete p.message; } })],
    ['an ephemeral copy (container says ephemeral, no message)', (c) => ({ channel: c.channel, ts: c.ts, payload: (p) => { p.container = { type: 'message', message_ts: '1600000000.000002', channel_id: c.channel, is_ephemeral: true }; delete p.message; } })],
  ];
  it.each(variants)('%s: refused, recorded, not counted', async (_name, where) => {
    const q = await pending(WRITE(1000 + variants.findIndex((v) => v[1] === where)));
    expect(await h.click('U0ALICE', q.id, where(q.card))).toBe(200);
    await notCounted(q.id, 'U0ALICE');
  });

  it("a click copied from another query's card (value swapped) is refused", async () => {
    const a = await pending(WRITE(1100));
    const b = await pending(WRITE(1101));
    // Approve on B's card, with A's id as the button value.
    expect(await h.click('U0ALICE', a.id, b.card)).toBe(200);
    await notCounted(a.id, 'U0ALICE');
    expect((await h.view(token, b.id)).approval.votes).toEqual([]);
  });

  it('the clicker is told privately why it did not count', async () => {
    const q = await pending(WRITE(1102));
    const since = Date.now();
    await h.click('U0BOB', q.id, { channel: q.card.channel, ts: '1700000000.123456' });
    const e = await until('the ephemeral', () => slack.ephemerals.find((x) => x.user === 'U0BOB' && x.at >= since));
    expect(e.text).toMatch(/did not come from the query's approval card/);
  });

  it('a query whose card was never posted takes no vote at all', async () => {
    slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    const submitted = await h.submit(token, WRITE(1103));
    const id: string = submitted.json.id;
    await slack.waitForCall('chat.postMessage', () => true, 10_000).catch(() => undefined);
    await until('the refused post', () => slack.calls.find((c) => c.method === 'chat.postMessage' && c.error === 'channel_not_found'));
    expect(await h.click('U0ALICE', id, { channel: CHANNEL, ts: '1700000000.000001' })).toBe(200);
    await notCounted(id, 'U0ALICE');
  });

  it('control: the same click from the card counts', async () => {
    const q = await pending(WRITE(1104));
    expect(await h.click('U0ALICE', q.id, q.card)).toBe(200);
    await until('queued', async () => ((await h.view(token, q.id)).status === 'queued' ? true : undefined));
  });
});

describe('the deny modal is bound to the card and user it was opened for', () => {
  const submit = (user: string, viewId: string, queryId: string, reason = 'Use the staging copy.') => h.denyReason(user, queryId, reason, viewId);
  async function openModal(user: string, q: { id: string; card: { channel: string; ts: string } }) {
    const since = Date.now();
    expect(await h.click(user, q.id, q.card, 'deny')).toBe(200);
    return until('the modal', () => slack.views.find((v) => v.view.private_metadata === q.id && v.at >= since));
  }

  it('Deny clicked outside the card opens no modal and is recorded', async () => {
    const q = await pending(WRITE(1200));
    const since = Date.now();
    expect(await h.click('U0ALICE', q.id, { channel: 'C0ELSEWHERE', ts: q.card.ts }, 'deny')).toBe(200);
    await notCounted(q.id, 'U0ALICE');
    expect(slack.views.filter((v) => v.at >= since && v.view.private_metadata === q.id)).toEqual([]);
  });

  it('a submission of a view Airlock never opened is refused', async () => {
    const q = await pending(WRITE(1201));
    const res = await submit('U0ALICE', 'V0FORGED01', q.id);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/did not come from the query's approval card/);
    await notCounted(q.id, 'U0ALICE');
  });

  it("a modal opened for query A, submitted with query B's id, is refused for B and does not touch A", async () => {
    const a = await pending(WRITE(1202));
    const b = await pending(WRITE(1203));
    const modal = await openModal('U0ALICE', a);
    const res = await submit('U0ALICE', modal.id, b.id);
    expect(res.text).toMatch(/did not come from/);
    await notCounted(b.id, 'U0ALICE');
    expect((await h.view(token, a.id)).status).toBe('pending_approval');
  });

  it("a modal opened by Alice, submitted as Bob, is refused", async () => {
    const q = await pending(WRITE(1204));
    const modal = await openModal('U0ALICE', q);
    const res = await submit('U0BOB', modal.id, q.id);
    expect(res.text).toMatch(/did not come from/);
    await notCounted(q.id, 'U0BOB');
  });

  it('control: the modal opened from the card, submitted by its opener, rejects the query once; a replay changes nothing', async () => {
    const q = await pending(WRITE(1205));
    const modal = await openModal('U0BOB', q);
    expect((await submit('U0BOB', modal.id, q.id)).status).toBe(200);
    const view = await until('rejected', async () => {
      const v = await h.view(token, q.id);
      return v.status === 'rejected' ? v : undefined;
    });
    expect(view.approval.votes).toHaveLength(1);
    const replay = await submit('U0BOB', modal.id, q.id, 'another reason');
    expect(replay.text).toMatch(/did not come from|no longer waiting/);
    expect((await h.view(token, q.id)).approval.votes).toHaveLength(1);
  });
});

describe('/airlock pending, show and search answer only approvers and reviewers', () => {
  let q: { id: string; card: { channel: string; ts: string } };
  beforeAll(async () => {
    q = await pending(PII_SQL);
  });

  const leaks = (text: string) => [...PII, OWNER_EMAIL, 'analytics.public.customers', q.id].filter((s) => text.toLowerCase().includes(s.toLowerCase()));

  const outsiders: Array<[string, string, string]> = [
    ['pending', 'the approval channel', CHANNEL],
    ['pending', 'another channel', 'C0RANDOM'],
    ['pending', 'a DM', 'D0MALLORY'],
    ['show', 'the approval channel', CHANNEL],
    ['show', 'another channel', 'C0RANDOM'],
    ['search customers', 'the approval channel', CHANNEL],
    ['search etl-bot', 'a DM', 'D0MALLORY'],
  ];
  it.each(outsiders)('a non-approver running %s from %s is refused and learns nothing', async (cmd, _where, channel) => {
    const text = cmd === 'show' ? `show ${q.id}` : cmd;
    const res = await h.command('U0MALLORY', text, channel);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/Only approvers and reviewers/);
    expect(leaks(res.text)).toEqual([]);
  });

  it('show of an unknown id by a non-approver is the same refusal (no existence oracle)', async () => {
    const res = await h.command('U0MALLORY', 'show 00000000-0000-4000-8000-000000000000');
    expect(res.text).toMatch(/Only approvers and reviewers/);
  });

  it('the owner, not an approver here, is refused too', async () => {
    expect((await h.command('U0OWNER', 'pending')).text).toMatch(/Only approvers and reviewers/);
  });

  const insiders: Array<[string, string]> = [
    ['a listed approver', 'U0ALICE'],
    ['an approver through a user group', 'U0CAROL'],
    ['a reviewer listed by id', 'U0REVIEWER'],
    ['a reviewer through a reviewer user group', 'U0AUDITOR'],
  ];
  it.each(insiders)('%s sees show and pending, with every literal masked', async (_name, user) => {
    for (const text of [`show ${q.id}`, 'pending']) {
      const res = await h.command(user, text, 'D0ANYWHERE');
      expect(res.status).toBe(200);
      expect(res.text).toContain(q.id);
      expect(res.text.toLowerCase()).toContain('analytics.public.customers');
      expect(res.text).toContain("'***'");
      expect(PII.filter((s) => res.text.includes(s))).toEqual([]);
    }
  });

  it('a Slack failure while checking user groups refuses (fail closed)', async () => {
    // A fresh process: its user-group cache is empty, so the check must ask Slack.
    const fresh = await startHarness({ slack, prefix: `${prefix}-fresh`, approvers: { users: ['U0ALICE'], usergroups: ['S0OWNERS'] }, env: { AIRLOCK_SLACK_REVIEWERS: 'S0REVIEW' } });
    try {
      slack.failNext('usergroups.users.list', { status: 503 }, 5);
      const res = await fresh.command('U0CAROL', `show ${q.id}`);
      expect(res.text).toMatch(/could not check with Slack/);
      expect(leaks(res.text)).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

describe('SQL shown in Slack lists has its literals masked', () => {
  const cases: Array<[string, string, string[]]> = [
    ['strings and numbers', "select * from t where ssn = '123-45-6789' and id = 42", ["'***'", '= #']],
    ['escaped quotes', "select 'it''s 078-05-1120' from t", ["'***'"]],
    ['dollar bodies', 'select $$555-867-5309$$', ['$$***$$']],
    ['hex and exponent', "select x'DEADBEEF', 1e5, .5", ["x'***'", '#, #']],
    ['a comment with PII goes through the detectors', 'select 1 -- jane.doe@example.com', ['[REDACTED:EMAIL]']],
    ['an unterminated string hides the rest', "select 'jane.doe@example.com", ['rest hidden']],
  ];
  it.each(cases)('%s', (_name, sql, expected) => {
    const out = maskSqlLiterals(sql);
    for (const e of expected) expect(out).toContain(e);
    for (const raw of ['123-45-6789', '078-05-1120', '555-867-5309', 'DEADBEEF', 'jane.doe@example.com']) expect(out).not.toContain(raw);
  });
});
