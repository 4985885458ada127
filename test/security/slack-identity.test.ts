/**
 * Class 7 of the red-team issue: self-approval by identity mismatch.
 *
 * An attacker here is the agent's owner (a Slack member who is also an
 * approver) trying to get their own agent's write approved: by an owner claim
 * that differs from their Slack email only in case, a `+tag` or a second mail
 * domain; by a second Slack account; by a token with no owner claim; or by a
 * Slack profile Airlock cannot read. Everything is real except Slack's Web API
 * (the local fake): the dev OIDC issuer mints the tokens, the API and the Slack
 * role run on real Redis, and every click is a correctly signed request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalIdentity, parseIdentityAliases } from '../../src/approvals/identity.ts';
import { checkEnv } from '../../src/config/env.ts';
import { cleanupPrefix, uniquePrefix } from '../support/redis.ts';
import { startHarness, type Harness } from '../support/slack-harness.ts';
import { until } from '../support/until.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';

const prefix = uniquePrefix('sec-slack-identity');
let slack: FakeSlack;
let h: Harness;

/** A write the shipped policy sends to one data owner (writes-and-ddl). */
const WRITE = (n: number) => `update analytics.public.orders set status = 'X' where order_id = ${n}`;

const APPROVERS = ['U0OWNER', 'U0OWNERTWO', 'U0OWNERCORP', 'U0ALICE', 'U0BOB', 'U0NOMAIL', 'U0FLAKY', 'U0ALIAS'];

beforeAll(async () => {
  slack = await startFakeSlack();
  slack.setUser('U0OWNER', { email: 'owner@example.com', name: 'owner' });
  // The owner's second Slack account (another workspace login), same mailbox by plus-addressing.
  slack.setUser('U0OWNERTWO', { email: 'Owner+second@Example.com', name: 'owner-two' });
  // The owner's account on the subsidiary's domain, tied to the same person by a domain alias.
  slack.setUser('U0OWNERCORP', { email: 'owner@corp.example.net', name: 'owner-corp' });
  // An address alias: the owner's old address.
  slack.setUser('U0ALIAS', { email: 'o.wner@legacy.example.org', name: 'owner-legacy' });
  slack.setUser('U0ALICE', { email: 'alice@example.com', name: 'alice' });
  slack.setUser('U0BOB', { email: 'bob@example.com', name: 'bob' });
  slack.setUser('U0CAROL', { email: 'carol@example.com', name: 'carol' });
  slack.setUser('U0NOMAIL', { name: 'nomail' });
  slack.setUser('U0FLAKY', { email: 'flaky@example.com', name: 'flaky' });
  slack.setUsergroupMembers('S0OWNERS', ['U0CAROL', 'U0OWNER']);
  h = await startHarness({
    slack,
    prefix: `${prefix}-main`,
    approvers: { users: APPROVERS, usergroups: ['S0OWNERS'] },
    env: { AIRLOCK_IDENTITY_ALIASES: '@corp.example.net=@example.com, o.wner@legacy.example.org=owner@example.com' },
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await slack?.close();
  await cleanupPrefix(prefix);
});

/** Submit a review query as `owner` (undefined: no owner claim); its id, token and card. */
async function pending(owner: string | undefined, n: number, harness = h) {
  const token = await harness.token(owner);
  const submitted = await harness.submit(token, WRITE(n));
  expect(submitted.status, JSON.stringify(submitted.json)).toBe(202);
  const id: string = submitted.json.id;
  return { id, token, card: await harness.cardOf(id) };
}

/** Wait for the ephemeral answer to `user`'s click and return its text. */
async function ephemeralFor(user: string, since: number): Promise<string> {
  const e = await until(`an ephemeral for ${user}`, () => slack.ephemerals.find((x) => x.user === user && x.at >= since));
  return e.text;
}

/** Click Approve as `user`; assert the vote was refused with `message` and nothing counted. */
async function refusedApprove(p: Awaited<ReturnType<typeof pending>>, user: string, message: RegExp, harness = h): Promise<void> {
  const since = Date.now();
  expect(await harness.click(user, p.id, p.card)).toBe(200);
  expect(await ephemeralFor(user, since)).toMatch(message);
  const view = await harness.view(p.token, p.id);
  expect(view.status).toBe('pending_approval');
  expect(view.approval.votes).toEqual([]);
}

describe('the owner claim and the Slack email are compared as identities', () => {
  const variants: Array<[string, string, string]> = [
    ['exact', 'owner@example.com', 'U0OWNER'],
    ['upper-case claim', 'OWNER@EXAMPLE.COM', 'U0OWNER'],
    ['mixed-case domain', 'owner@Example.Com', 'U0OWNER'],
    ['plus-tagged claim', 'owner+agent@example.com', 'U0OWNER'],
    ['plus-tagged and upper-case claim', 'Owner+ETL-Bot@EXAMPLE.com', 'U0OWNER'],
    ['plus-tagged Slack email, plain claim', 'owner@example.com', 'U0OWNERTWO'],
    ['both plus-tagged, different tags', 'owner+ci@example.com', 'U0OWNERTWO'],
    ['fully qualified domain with a trailing dot', 'owner@example.com.', 'U0OWNER'],
    ['Slack email on an aliased domain', 'owner@example.com', 'U0OWNERCORP'],
    ['claim on an aliased domain', 'owner+x@corp.example.net', 'U0OWNER'],
    ['aliased old address in Slack', 'owner@example.com', 'U0ALIAS'],
    ['claim is the aliased old address', 'O.Wner@legacy.example.org', 'U0OWNER'],
  ];
  it.each(variants)('%s: %s vs %s is refused as the owner', async (_name, owner, clicker) => {
    const p = await pending(owner, 100 + variants.findIndex((v) => v[1] === owner && v[2] === clicker));
    await refusedApprove(p, clicker, /own the agent/);
    const refusals = (await h.sessionEvents(p.id)).filter((e) => e.type === 'vote_refused');
    expect(refusals.map((e) => e.data.outcome)).toEqual(['owner']);
  });

  it('the owner through a user group is refused too', async () => {
    // U0OWNER is listed directly and in S0OWNERS; the plus-tagged claim still names them.
    const p = await pending('owner+grp@example.com', 130);
    await refusedApprove(p, 'U0OWNER', /own the agent/);
  });

  it('the owner may not deny either (the modal submission is refused)', async () => {
    const p = await pending('OWNER+deny@example.com', 131);
    const since = Date.now();
    expect(await h.click('U0OWNER', p.id, p.card, 'deny')).toBe(200);
    const view = await until('the deny modal', () => slack.views.find((v) => v.view.private_metadata === p.id && v.at >= since));
    const res = await h.denyReason('U0OWNER', p.id, 'mine', view.id);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/own the agent/);
    expect((await h.view(p.token, p.id)).status).toBe('pending_approval');
  });

  it('someone else may approve the same query (the rule is not "refuse everyone")', async () => {
    const p = await pending('owner+agent@example.com', 140);
    expect(await h.click('U0ALICE', p.id, p.card)).toBe(200);
    const view = await until('queued', async () => {
      const v = await h.view(p.token, p.id);
      return v.status === 'queued' ? v : undefined;
    });
    expect(view.approval.votes.map((v: { by: string }) => v.by)).toEqual(['u0alice']);
  });

  it('one person, two Slack accounts: the second account is a duplicate, not a second approval', async () => {
    // Needs 2 approvals (DROP is destructive); alice's plus-tagged second account must not be the second.
    slack.setUser('U0ALICETWO', { email: 'ALICE+alt@example.com', name: 'alice-two' });
    const extra = await startHarness({ slack, prefix: `${prefix}-dup`, approvers: { users: ['U0ALICE', 'U0ALICETWO', 'U0BOB'] } });
    try {
      const token = await extra.token('owner@example.com');
      const submitted = await extra.submit(token, 'drop table analytics.public.orders');
      expect(submitted.status).toBe(202);
      const id: string = submitted.json.id;
      const card = await extra.cardOf(id);
      expect(await extra.click('U0ALICE', id, card)).toBe(200);
      await until('one vote', async () => ((await extra.view(token, id)).approval.votes.length === 1 ? true : undefined));
      const since = Date.now();
      expect(await extra.click('U0ALICETWO', id, card)).toBe(200);
      expect(await ephemeralFor('U0ALICETWO', since)).toMatch(/already voted/);
      const view = await extra.view(token, id);
      expect(view.status).toBe('pending_approval');
      expect(view.approval.votes).toHaveLength(1);
    } finally {
      await extra.close();
    }
  });
});

describe('a voter whose Slack email cannot be read is refused (fail closed)', () => {
  it('no email on the Slack profile', async () => {
    const p = await pending('owner@example.com', 200);
    await refusedApprove(p, 'U0NOMAIL', /could not read your email address/);
  });

  it('users.info fails (Slack error answer)', async () => {
    const p = await pending('owner@example.com', 201);
    slack.failNext('users.info', { error: 'internal_error' });
    await refusedApprove(p, 'U0FLAKY', /could not read your email address/);
  });

  it('users.info fails (Slack down, 503)', async () => {
    const p = await pending('owner@example.com', 202);
    slack.failNext('users.info', { status: 503 });
    await refusedApprove(p, 'U0FLAKY', /could not read your email address/);
  });

  it('users.info says the user does not exist', async () => {
    const p = await pending('owner@example.com', 203);
    // U0GHOST is listed as an approver in no policy here, so list it via the group to reach the identity check.
    slack.setUsergroupMembers('S0OWNERS', ['U0CAROL', 'U0OWNER', 'U0GHOST']);
    try {
      await refusedApprove(p, 'U0GHOST', /could not read your email address/);
    } finally {
      slack.setUsergroupMembers('S0OWNERS', ['U0CAROL', 'U0OWNER']);
    }
  });

  it("the owner's refused click is in the log for reviewers with the email, and in the agent's own view without it", async () => {
    const p = await pending('owner+log@example.com', 205);
    await refusedApprove(p, 'U0OWNER', /own the agent/);
    const asReviewer = (await h.sessionEvents(p.id)).find((e) => e.type === 'vote_refused')!;
    expect(asReviewer.data).toMatchObject({ outcome: 'owner', voter: { slackUserId: 'U0OWNER', email: 'owner@example.com' } });
    const asAgent = await h.sessionEvents(p.id, p.token);
    expect(asAgent.map((e) => e.type)).toContain('vote_refused');
    expect(JSON.stringify(asAgent.filter((e) => e.type === 'vote_refused'))).not.toContain('owner@example.com');
  });

  it('the refusal is recorded in the session log as vote_refused / unverified', async () => {
    const p = await pending('owner@example.com', 204);
    await refusedApprove(p, 'U0NOMAIL', /could not read/);
    const events = await h.sessionEvents(p.id);
    expect(events.filter((e) => e.type === 'vote')).toEqual([]);
    expect(events.filter((e) => e.type === 'vote_refused').map((e) => e.data.outcome)).toEqual(['unverified']);
  });
});

describe('tokens without an owner claim', () => {
  it('default (extra_approver): the query needs one more approval than the policy asks', async () => {
    const p = await pending(undefined, 300);
    const view = await h.view(p.token, p.id);
    expect(view.approval.required).toBe(2);
    expect(await h.click('U0OWNER', p.id, p.card)).toBe(200);
    await until('one vote', async () => ((await h.view(p.token, p.id)).approval.votes.length === 1 ? true : undefined));
    // One click (perhaps the unknown owner's own) is not enough.
    expect((await h.view(p.token, p.id)).status).toBe('pending_approval');
    expect(await h.click('U0ALICE', p.id, p.card)).toBe(200);
    await until('queued after two', async () => ((await h.view(p.token, p.id)).status === 'queued' ? true : undefined));
  });

  it('default: a claim that is not a usable email address counts as no owner', async () => {
    const p = await pending('owner@intranet', 301);
    expect((await h.view(p.token, p.id)).approval.required).toBe(2);
  });

  it('refuse_approval: nobody may vote on a query from an ownerless token', async () => {
    const strict = await startHarness({ slack, prefix: `${prefix}-refuse`, approvers: { users: APPROVERS }, env: { AIRLOCK_OWNERLESS_TOKENS: 'refuse_approval' } });
    try {
      const p = await pending(undefined, 310, strict);
      await refusedApprove(p, 'U0ALICE', /names no owner/, strict);
      await refusedApprove(p, 'U0BOB', /names no owner/, strict);
      // A token with an owner still works there.
      const owned = await pending('owner@example.com', 311, strict);
      expect(await strict.click('U0ALICE', owned.id, owned.card)).toBe(200);
      await until('queued', async () => ((await strict.view(owned.token, owned.id)).status === 'queued' ? true : undefined));
    } finally {
      await strict.close();
    }
  });

  it('refuse_token: an ownerless token is refused at the API with 403 FORBIDDEN, nothing is created', async () => {
    const strict = await startHarness({ slack, prefix: `${prefix}-token`, approvers: { users: APPROVERS }, env: { AIRLOCK_OWNERLESS_TOKENS: 'refuse_token' } });
    try {
      for (const owner of [undefined, 'owner@intranet']) {
        const res = await strict.submit(await strict.token(owner), WRITE(320));
        expect(res.status).toBe(403);
        expect(res.json.error.code).toBe('FORBIDDEN');
        expect(res.json.error.details.reason).toBe('OWNER_CLAIM_MISSING');
        expect(JSON.stringify(res.json)).not.toMatch(/at .*\.ts:\d+/);
      }
      expect((await strict.submit(await strict.token('owner@example.com'), WRITE(321))).status).toBe(202);
    } finally {
      await strict.close();
    }
  });
});

describe('configuration', () => {
  it('aliases normalise both sides and refuse chains, doubles and mixed kinds', () => {
    const { aliases, problems } = parseIdentityAliases('@Corp.Example.net=@example.com, Old+x@Legacy.example.org=owner@example.com');
    expect(problems).toEqual([]);
    expect(canonicalIdentity('OWNER+anything@corp.example.net', aliases)).toBe('owner@example.com');
    expect(canonicalIdentity('old@legacy.example.org', aliases)).toBe('owner@example.com');
    expect(canonicalIdentity('someone@example.com', aliases)).toBe('someone@example.com');
    expect(canonicalIdentity('not an address', aliases)).toBeUndefined();
    const bad = parseIdentityAliases('a@x.com=b@x.com, b@x.com=c@x.com, @d.com=e@x.com, junk, a@x.com=z@x.com, @q.com=@r.com, @r.com=@s.com');
    expect(bad.problems.map((p) => p.entry)).toEqual(expect.arrayContaining(['@d.com=e@x.com', 'junk', 'a@x.com=z@x.com', 'a@x.com=b@x.com', '@q.com=@r.com']));
  });

  it('bad values are CONFIG problems naming the variable, never a crash', () => {
    const { problems } = checkEnv({ AIRLOCK_IDENTITY_ALIASES: 'owner@example.com', AIRLOCK_OWNERLESS_TOKENS: 'allow', AIRLOCK_SLACK_REVIEWERS: 'alice' });
    expect(problems.map((p) => p.variable).sort()).toEqual(['AIRLOCK_IDENTITY_ALIASES', 'AIRLOCK_OWNERLESS_TOKENS', 'AIRLOCK_SLACK_REVIEWERS']);
  });
});
