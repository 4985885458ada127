/**
 * The session log end to end: each outcome's full event sequence, the session
 * API (search, replay, who may read what), and no raw PII or secrets in any
 * event or export. All real except Slack itself — the dev OIDC issuer, the API
 * and worker on real Redis and BullMQ, the emulator through the real
 * snowflake-sdk, Bolt behind Airlock's receiver with correctly signed
 * requests — and Slack's Web API is the local fake in test/support.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevEnvironment } from '../../src/app/dev.ts';
import { exportAudit } from '../../src/audit/export.ts';
import { FsExportStore } from '../../src/audit/fs-store.ts';
import { RedisAuditLog } from '../../src/audit/redis-log.ts';
import { verifyAll } from '../../src/audit/verify.ts';
import { AUDIT_EXPORT_QUEUE } from '../../src/queue/audit-export-queue.ts';
import { bullPrefix } from '../../src/queue/bull-prefix.ts';
import { airlock } from '../support/cli.ts';
import { startDevSuite, type DevSuite } from '../support/dev-suite.ts';
import { REDIS_URL, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/until.ts';
import { tappingWarehouse } from '../support/warehouse.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { shippedPolicy } from '../support/policies.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';
import { slackClient, type SlackClient } from '../support/slack-client.ts';

const SECRET = 'test-signing-secret-audit-0123456789';
const CHANNEL = 'C0AUDIT';
const prefix = uniquePrefix('audit-sessions');
const redis = new Redis(REDIS_URL);
let env: DevEnvironment;
let slack: FakeSlack;
let suite: DevSuite;
let stateDir: string;
/** The API as an agent (the user agent is recorded in the session log); each call names whose token. */
let api: ApiClient;
/** Slack's side: signed clicks, modal submissions and commands. */
let fromSlack: SlackClient;
const tokens: Record<'etl' | 'other' | 'reviewer' | 'groupReviewer', string> = { etl: '', other: '', reviewer: '', groupReviewer: '' };
/** Every string value the warehouse returned, before masking: the seeded PII this test must never find in the log. */
const rawCells = new Set<string>();
const ids: Record<string, string> = {};

/** A request to the API as one of {@link tokens}; with a body, a POST of it as JSON. */
const call = (who: keyof typeof tokens, path: string, body?: unknown) => api(path, { token: tokens[who], body });

/** The event types of a session, in order, as a reviewer replays it. */
async function types(id: string): Promise<string[]> {
  const r = await call('reviewer', `/v1/sessions/${id}`);
  expect(r.status).toBe(200);
  return r.json.events.map((e: { type: string }) => e.type);
}

async function waitForTypes(id: string, last: string): Promise<string[]> {
  return until(`session ${id} to reach ${last}`, async () => {
    const t = await types(id);
    return t.includes(last) ? t : undefined;
  }, 15_000);
}

/** Post a review, wait for its card to be posted and recorded, return the card's ts. */
async function reviewWithCard(sql: string, extra: Record<string, unknown> = {}): Promise<{ id: string; ts: string }> {
  const r = await call('etl', '/v1/queries', { sql, ...extra });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  const id: string = r.json.id;
  await waitForTypes(id, 'card_posted');
  const posted = [...slack.messages.entries()].find(([, m]) => m.thread_ts === undefined && JSON.stringify(m.blocks).includes(id));
  expect(posted).toBeDefined();
  return { id, ts: posted![0] };
}

beforeAll(async () => {
  slack = await startFakeSlack();
  slack.setUser('U0ALICE', { email: 'alice@example.com', name: 'alice' });
  slack.setUser('U0BOB', { email: 'bob@example.com', name: 'bob' });
  suite = await startDevSuite({
    prefix,
    env: {
      AIRLOCK_REVIEWER_GROUPS: 'security-team',
      AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS: '900',
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_APPROVAL_CHANNEL: CHANNEL,
      SLACK_API_URL: slack.url,
    },
    policy: await shippedPolicy({ dataOwners: { users: ['U0ALICE', 'U0BOB'] }, expiringAfter: '1s' }),
    wrapWarehouse: tappingWarehouse(() => (row) => {
      for (const v of row) if (typeof v === 'string' && v.length >= 6) rawCells.add(v);
    }),
  });
  ({ env, stateDir } = suite);
  fromSlack = slackClient({ url: env.apiUrl, secret: SECRET, channel: CHANNEL });
  api = apiClient(env.apiUrl, undefined, { 'user-agent': 'audit-e2e/1.0' });
  tokens.etl = await env.mintToken({ agent: 'etl-bot', owner: 'dana@example.com', groups: ['analysts'] });
  tokens.other = await env.mintToken({ agent: 'other-bot', owner: 'erin@example.com', groups: ['analysts'] });
  tokens.reviewer = await env.mintToken({ agent: 'sec-reviewer', groups: ['auditors'], scopes: ['airlock:query', 'airlock:review'] });
  tokens.groupReviewer = await env.mintToken({ agent: 'sec-lead', groups: ['security-team'] });
}, 120_000);

afterAll(async () => {
  await suite?.close();
  await slack?.close();
  redis.disconnect();
});

describe('the full event sequence of each outcome', () => {
  it('approved: received → decided → card_posted → vote → approved → execution_started → execution_finished → summary_posted', async () => {
    const { id, ts } = await reviewWithCard('select customer_id, email, ssn, phone from customers order by customer_id limit 4', {
      prompt: 'Contact details of our first customers',
      purpose: 'support follow-up',
    });
    ids.approved = id;
    expect(await fromSlack.click('U0ALICE', id, { ts })).toBe(200);
    const done = await call('etl', `/v1/queries/${id}?waitMs=15000`);
    expect(done.json.status).toBe('succeeded');
    const t = await waitForTypes(id, 'summary_posted');
    expect(t).toEqual(['received', 'decided', 'card_posted', 'vote', 'approved', 'execution_started', 'execution_finished', 'summary_posted']);

    const replay = (await call('reviewer', `/v1/sessions/${id}`)).json;
    expect(replay.integrity).toEqual({ events: 8, hashesValid: true });
    expect(replay.view).toBe('reviewer');
    const received = replay.events[0];
    expect(received.data).toMatchObject({ agent: 'etl-bot', owner: 'dana@example.com', groups: ['analysts'], purpose: 'support follow-up', userAgent: 'audit-e2e/1.0' });
    expect(received.data.clientAddress).toMatch(/127\.0\.0\.1/);
    expect(received.data.sqlSha256).toMatch(/^[0-9a-f]{64}$/);
    const vote = replay.events[3];
    expect(vote.data).toMatchObject({ vote: 'approve', voter: { slackUserId: 'U0ALICE', email: 'alice@example.com' } });
    expect(replay.events[4].data).toEqual({ approvers: ['U0ALICE'] });
    const finished = replay.events[6].data;
    expect(finished.rows).toBe(4);
    expect(finished.resultSha256).toBe(done.json.execution.resultSha256);
    expect(finished.masking.columns.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['EMAIL', 'SSN', 'PHONE']));
    // The preview is the masked result's first rows, exactly as the agent got them.
    expect(finished.preview.columns).toEqual(['CUSTOMER_ID', 'EMAIL', 'SSN', 'PHONE']);
    expect(finished.preview.rows).toEqual(done.json.result.rows.slice(0, 4));
    expect(finished.preview.rows[0][2]).toMatch(/^\*\*\*-\*\*-\d{4}$/);
    expect(replay.events[7].data.channel).toBe(CHANNEL);
    // Sequence numbers rise and each event links to the one before it in the global chain.
    const seqs = replay.events.map((e: { seq: number }) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it('rejected: the deny reason is recorded with the vote and the rejection, nothing runs', async () => {
    const { id, ts } = await reviewWithCard('select email from customers where customer_id = 7');
    ids.rejected = id;
    expect(await fromSlack.click('U0BOB', id, { ts }, 'deny')).toBe(200);
    const modal = await until('the deny modal', () => slack.views.find((v) => v.view.private_metadata === id));
    expect((await fromSlack.denyReason('U0BOB', id, 'Not for support; ask the customer at jane.roe@example.org instead.', modal.id)).status).toBe(200);
    const t = await waitForTypes(id, 'summary_posted');
    expect(t).toEqual(['received', 'decided', 'card_posted', 'vote', 'rejected', 'summary_posted']);
    const replay = (await call('reviewer', `/v1/sessions/${id}`)).json;
    // The reason is typed by a person: an email in it is masked like any other free text.
    expect(replay.events[4].data).toEqual({ by: 'U0BOB', reason: 'Not for support; ask the customer at [REDACTED:EMAIL] instead.' });
    expect(replay.summary.status).toBe('rejected');
  });

  it('expired: nobody decided in time', async () => {
    const { id } = await reviewWithCard('select * from analytics.public.expiring');
    ids.expired = id;
    const t = await waitForTypes(id, 'summary_posted');
    expect(t).toEqual(['received', 'decided', 'card_posted', 'expired', 'summary_posted']);
    expect((await call('etl', `/v1/queries/${id}`)).json.status).toBe('expired');
  });

  it('denied by policy: received → decided, and the session says denied', async () => {
    const r = await call('etl', '/v1/queries', { sql: "copy into @my_stage from customers" });
    expect(r.status).toBe(403);
    ids.denied = r.json.id;
    expect(await types(r.json.id)).toEqual(['received', 'decided']);
    expect((await call('reviewer', `/v1/sessions/${r.json.id}`)).json.summary).toMatchObject({ status: 'denied', action: 'deny' });
  });

  it('failed in the warehouse: received → decided → execution_started → failed', async () => {
    const r = await call('etl', '/v1/queries', { sql: 'select order_id from orders_that_do_not_exist limit 1', waitMs: 15_000 });
    expect(r.json.status).toBe('failed');
    ids.failed = r.json.id;
    const replay = (await call('reviewer', `/v1/sessions/${r.json.id}`)).json;
    expect(replay.events.map((e: { type: string }) => e.type)).toEqual(['received', 'decided', 'execution_started', 'failed']);
    expect(replay.events[3].data.code).toBe(r.json.error.code);
    expect(replay.summary.status).toBe('failed');
  });

  it('cancelled by the agent while waiting for approval', async () => {
    const { id } = await reviewWithCard('select phone from customers where customer_id = 9');
    ids.cancelled = id;
    expect((await call('etl', `/v1/queries/${id}/cancel`, {})).json.status).toBe('cancelled');
    const t = await waitForTypes(id, 'summary_posted');
    expect(t).toEqual(['received', 'decided', 'card_posted', 'cancelled', 'summary_posted']);
    const replay = (await call('reviewer', `/v1/sessions/${id}`)).json;
    expect(replay.events[3]).toMatchObject({ actor: 'etl-bot', data: { by: 'etl-bot' } });
  });
});

describe('who may read sessions', () => {
  it("an agent cannot read another agent's session or search for it; it sees its own", async () => {
    const mine = await call('other', '/v1/queries', { sql: 'select count(*) from orders', waitMs: 10_000 });
    expect(mine.json.status).toBe('succeeded');
    ids.other = mine.json.id;

    const foreign = await call('other', `/v1/sessions/${ids.approved}`);
    expect(foreign.status).toBe(404);
    expect(foreign.json.error.code).toBe('NOT_FOUND');
    expect(JSON.stringify(foreign.json)).not.toContain('etl-bot');

    const asked = await call('other', '/v1/sessions?agent=etl-bot');
    expect(asked.status).toBe(403);
    expect(asked.json.error.code).toBe('FORBIDDEN');

    const own = await call('other', '/v1/sessions');
    expect(own.status).toBe(200);
    expect(own.json.view).toBe('agent');
    expect(own.json.sessions.map((s: { id: string }) => s.id)).toEqual([ids.other]);
    // Even a search by table that etl-bot's sessions match returns only the caller's.
    const byTable = await call('other', '/v1/sessions?table=CUSTOMERS');
    expect(byTable.json.sessions).toEqual([]);
    expect((await call('other', `/v1/sessions/${ids.other}`)).status).toBe(200);
    // Words, statuses and a reviewer's cursor do not widen an agent's view either.
    for (const q of ['q=support', 'status=succeeded', 'status=rejected', 'table=CUSTOMERS.SSN&status=succeeded', 'approver=U0ALICE']) {
      const r = await call('other', `/v1/sessions?${q}`);
      expect(r.status, q).toBe(200);
      expect(r.json.sessions.every((x: { agent: string }) => x.agent === 'other-bot'), q).toBe(true);
    }
    const reviewerPage = await call('reviewer', '/v1/sessions?limit=1');
    expect(reviewerPage.json.nextCursor).toBeDefined();
    const withCursor = await call('other', `/v1/sessions?cursor=${encodeURIComponent(reviewerPage.json.nextCursor)}`);
    expect(withCursor.status).toBe(200);
    expect(withCursor.json.sessions.every((x: { agent: string }) => x.agent === 'other-bot')).toBe(true);
    // Approvers' emails are for reviewers, not even as a probe.
    const probe = await call('etl', '/v1/sessions?approver=alice@example.com');
    expect(probe.status).toBe(403);
    expect(probe.json.error.code).toBe('FORBIDDEN');
  });

  it("an agent's own replay leaves out approvers' emails; a reviewer's holds them", async () => {
    const asAgent = (await call('etl', `/v1/sessions/${ids.approved}`)).json;
    expect(asAgent.view).toBe('agent');
    expect(asAgent.integrity.hashesValid).toBe(true);
    const vote = asAgent.events.find((e: { type: string }) => e.type === 'vote');
    expect(vote.data.voter).toEqual({ slackUserId: 'U0ALICE', name: expect.any(String) });
    expect(JSON.stringify(asAgent)).not.toContain('alice@example.com');
    const asReviewer = (await call('groupReviewer', `/v1/sessions/${ids.approved}`)).json;
    expect(asReviewer.view).toBe('reviewer');
    expect(JSON.stringify(asReviewer)).toContain('alice@example.com');
  });

  it('`airlock token --reviewer` mints a reviewer token; without the flag a token sees only its own sessions', async () => {
    const search = async (jwt: string) => (await api('/v1/sessions', { token: jwt })).json as { view: string; sessions: unknown[] };
    const reviewer = await airlock(['token', '--agent', 'cli-reviewer', '--reviewer', '--state-dir', stateDir]);
    expect(reviewer.code, reviewer.stderr).toBe(0);
    const asReviewer = await search(reviewer.stdout.trim());
    expect(asReviewer.view).toBe('reviewer');
    expect(asReviewer.sessions.length).toBeGreaterThan(5);
    const plain = await airlock(['token', '--agent', 'cli-agent', '--state-dir', stateDir]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(await search(plain.stdout.trim())).toEqual({ sessions: [], view: 'agent' });
  });

  it('a reviewer (scope or group) searches every agent', async () => {
    for (const who of ['reviewer', 'groupReviewer'] as const) {
      const all = await call(who, '/v1/sessions?limit=500');
      expect(all.status).toBe(200);
      const agents = new Set(all.json.sessions.map((s: { agent: string }) => s.agent));
      expect(agents).toEqual(new Set(['etl-bot', 'other-bot']));
    }
  });
});

describe('search over the API', () => {
  it('answers "every session that touched CUSTOMERS.SSN" in one call, and filters combine', async () => {
    const ssn = await call('reviewer', '/v1/sessions?table=CUSTOMERS.SSN');
    // The approved read names SSN; the denied COPY reads the whole CUSTOMERS table, so it touched SSN too.
    expect(new Set(ssn.json.sessions.map((s: { id: string }) => s.id))).toEqual(new Set([ids.approved, ids.denied]));
    expect(ssn.json.sessions).toHaveLength(2);
    const email = await call('reviewer', '/v1/sessions?table=customers.email');
    expect(new Set(email.json.sessions.map((s: { id: string }) => s.id))).toEqual(new Set([ids.approved, ids.rejected, ids.denied]));
    const byApprover = await call('reviewer', '/v1/sessions?approver=ALICE@example.com');
    expect(byApprover.json.sessions.map((s: { id: string }) => s.id)).toEqual([ids.approved]);
    const byStatus = await call('reviewer', '/v1/sessions?status=expired');
    expect(byStatus.json.sessions.map((s: { id: string }) => s.id)).toEqual([ids.expired]);
    const byWords = await call('reviewer', '/v1/sessions?q=support%20follow');
    expect(byWords.json.sessions.map((s: { id: string }) => s.id)).toEqual([ids.approved]);
    const both = await call('reviewer', '/v1/sessions?owner=dana@example.com&status=failed');
    expect(both.json.sessions.map((s: { id: string }) => s.id)).toEqual([ids.failed]);
    const future = await call('reviewer', `/v1/sessions?from=${new Date(Date.now() + 3_600_000).toISOString()}`);
    expect(future.json.sessions).toEqual([]);
  });

  it('/airlock search in Slack answers from the session log: by column, and by agent', async () => {
    const slash = async (text: string) => {
      const res = await fromSlack.command('U0ALICE', text);
      expect(res.status).toBe(200);
      return res.text;
    };
    const ssn = await slash('search CUSTOMERS.SSN');
    for (const id of [ids.approved, ids.denied]) expect(ssn).toContain(id);
    for (const id of [ids.rejected, ids.expired, ids.failed, ids.cancelled, ids.other]) expect(ssn).not.toContain(id);
    const byAgent = await slash('search other-bot');
    expect(byAgent).toContain(ids.other);
    expect(byAgent).not.toContain(ids.approved);
    expect(await slash('search ...')).toContain('Nothing found.');
  });

  it('pages with a cursor: every session once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call('reviewer', `/v1/sessions?agent=etl-bot&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.json.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.sessions.map((s: { id: string }) => s.id));
      cursor = page.json.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    const expected = [ids.approved, ids.rejected, ids.expired, ids.denied, ids.failed, ids.cancelled];
    expect(new Set(seen)).toEqual(new Set(expected));
    expect(seen).toHaveLength(expected.length);
    expect(pages).toBe(3);
  });

  it('bad filters get 400 with a stable code and a sentence, never a 500', async () => {
    for (const q of ['status=bogus', 'from=yesterday', 'limit=0', 'limit=9999', 'cursor=not-a-cursor', 'q=%21', 'agent=a&agent=b', 'unknown=1',
      `from=${encodeURIComponent('2026-02-01T00:00:00Z')}&to=${encodeURIComponent('2026-01-01T00:00:00Z')}`]) {
      const r = await call('reviewer', `/v1/sessions?${q}`);
      expect(r.status, q).toBe(400);
      expect(['VALIDATION_FAILED', 'BAD_REQUEST']).toContain(r.json.error.code);
      expect(r.json.error.message.length).toBeGreaterThan(10);
    }
    expect((await call('reviewer', '/v1/sessions/no-such-session')).status).toBe(404);
    expect((await call('reviewer', '/v1/sessions/bad%20id')).status).toBe(400);
    const anonymous = await api('/v1/sessions');
    expect(anonymous.status).toBe(401);
  });
});

describe('exports on a schedule', () => {
  it('the worker role schedules one export job at AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS', async () => {
    const queue = new Queue(AUDIT_EXPORT_QUEUE, { connection: redis, prefix: bullPrefix(prefix) });
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => s.every)).toEqual([900_000]);
    } finally {
      await queue.close();
    }
  });
});

describe('no raw PII or secrets in the log or its exports', () => {
  it('seeded values, literals in SQL and prompts, and the warehouse key appear nowhere', async () => {
    // More seeded PII flows through: a wide read of the demo customers, and a literal in the SQL and the prompt.
    const wide = await reviewWithCard('select first_name, last_name, email, ssn, card_number, phone, street_address from customers order by customer_id limit 25');
    expect(await fromSlack.click('U0ALICE', wide.id, { ts: wide.ts })).toBe(200);
    await waitForTypes(wide.id, 'execution_finished');
    const seededSsn = [...rawCells].find((v) => /^\d{3}-\d{2}-\d{4}$/.test(v));
    expect(seededSsn, 'a seeded SSN came back from the warehouse').toBeDefined();
    const literal = await call('etl', '/v1/queries', {
      sql: `select count(*) from orders where order_id in (select order_id from orders) and '${seededSsn}' = '${seededSsn}'`,
      prompt: `Is ${seededSsn} one of ours? Mail the answer to ${[...rawCells].find((v) => v.includes('@'))}`,
      waitMs: 10_000,
    });
    expect(literal.status).toBeLessThan(500);
    const received = (await call('reviewer', `/v1/sessions/${literal.json.id}`)).json.events[0].data;
    expect(received.sql).toContain('[REDACTED:SSN]');
    expect(received.prompt).toContain('[REDACTED:EMAIL]');

    // Every string the warehouse returned (names, streets, emails, SSNs, cards, phones…): all of it passed masking.
    const secrets = [...rawCells];
    expect(secrets.filter((v) => /\d{3}-\d{2}-\d{4}/.test(v)).length).toBeGreaterThan(8);
    expect(secrets.filter((v) => /^[A-Z][a-z]+$/.test(v)).length).toBeGreaterThan(8);
    const pem = await readFile(join(stateDir, 'snowflake-dev-key.p8'), 'utf8');
    const keyLines = pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
    expect(keyLines.length).toBeGreaterThan(5);

    // Everything the log holds in Redis: the stream, the session summaries and the indexes.
    const keys = await redis.keys(`${prefix}:audit*`);
    expect(keys.length).toBeGreaterThan(10);
    const parts: string[] = [];
    for (const k of keys) {
      const type = await redis.type(k);
      if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(k, '-', '+')));
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(k)));
      else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(k, 0, -1)));
      else if (type === 'zset') parts.push(k, JSON.stringify(await redis.zrange(k, '0', '-1')));
      else if (type === 'string') parts.push(k, (await redis.get(k)) ?? '');
      else parts.push(k);
    }
    const inRedis = parts.join('\n');
    expect(inRedis).toContain('execution_finished');

    // And everything an export writes (native JSONL and OCSF), which must still verify.
    const exportDir = await mkdtemp(join(tmpdir(), 'airlock-audit-sessions-export-'));
    try {
      const log = new RedisAuditLog(redis, { prefix });
      const store = new FsExportStore(exportDir);
      const result = await exportAudit({ log, store, upTo: 'now', ocsf: true });
      expect(result.events).toBeGreaterThan(30);
      expect((await verifyAll(log, store)).ok).toBe(true);
      const files = (await readdir(exportDir, { recursive: true })).filter((f) => f.endsWith('.gz') || f.endsWith('.json'));
      expect(files.some((f) => f.includes('ocsf'))).toBe(true);
      let exported = '';
      for (const f of files) {
        const bytes = await readFile(join(exportDir, f));
        exported += f.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
      }
      expect(exported).toContain('"execution_finished"');
      for (const s of secrets) {
        expect(inRedis.includes(s), `the audit log in Redis holds ${s}`).toBe(false);
        expect(exported.includes(s), `an export holds ${s}`).toBe(false);
      }
      for (const line of keyLines) {
        expect(inRedis.includes(line), 'the audit log holds the warehouse key').toBe(false);
        expect(exported.includes(line), 'an export holds the warehouse key').toBe(false);
      }
    } finally {
      await rm(exportDir, { recursive: true, force: true });
    }
  });
});
