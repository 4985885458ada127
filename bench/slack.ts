/**
 * Approvals in Slack, against the local fake Slack (issue 4 targets, p50):
 *   1. submit → card posted ≤ 50 ms: from `POST /v1/queries` to the fake's
 *      successful `chat.postMessage` carrying the query id;
 *   2. click → execution started ≤ 30 ms: from posting the signed Approve
 *      click to the record's `execution.startedAt` (set by the worker just
 *      before it marks the query `running`);
 *   3. click → thread summary posted ≤ 200 ms: from the click to the fake's
 *      `chat.postMessage` with `thread_ts` = the card's ts.
 *
 * The whole dev stack runs in this process, as in test/e2e/slack-approvals:
 * emulator, dev issuer, API + worker + Slack roles on real Redis and BullMQ, and
 * the fake Slack Web API (test/support/fake-slack.ts). Requests are sequential:
 * one query at a time goes through submit → card → Approve → run → summary,
 * and the next starts once Slack has been quiet for a moment (card updates
 * done), so the figures are latencies, not throughput.
 *
 * Clock: every timestamp is `Date.now()` (the fake records calls with it, the
 * record's ISO timestamps come from it), so figures have 1 ms resolution.
 *
 * Statements are `delete from customers where customer_id = <unique n>` with
 * ids far above the demo's 10,000, so nothing is deleted, and the policy cache
 * and any idempotency never see the same statement twice.
 *
 * Needs Redis on REDIS_URL (default 127.0.0.1:6379); uses a unique key prefix
 * and deletes it afterwards. `npm run bench` runs it; alone:
 * `npx tsx bench/slack.ts`. BENCH_SLACK_SAMPLES changes the sample size.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { deletePrefix } from './cleanup.ts';
import { loadConfig } from '../src/config/env.ts';
import { startDev } from '../src/app/dev.ts';
import { createLogger } from '../src/log.ts';
import { parsePolicy } from '../src/policy/schema.ts';
import { APPROVE_ACTION_ID } from '../src/slack/presenters.ts';
import { startFakeSlack, type FakeSlackCall } from '../test/support/fake-slack.ts';
import { blockActionsPayload, interactivityBody, signedFormRequest, triggerId } from '../test/support/slack-sign.ts';
import { cardRecorded } from '../test/support/slack-harness.ts';

const SECRET = 'bench-signing-secret-0123456789';
const CHANNEL = 'C0BENCHAPPROVALS';
const APPROVER = 'U0BENCHAPPROVER';
const OWNER = 'U0BENCHOWNER';
const OWNER_EMAIL = 'bench-owner@example.com';
/** Far above the demo seed's customer ids: the deletes match no rows. */
const ID_BASE = 50_000_000;

export interface SlackLatency {
  n: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

export interface SlackBenchResult {
  submitToCard: SlackLatency;
  clickToStarted: SlackLatency;
  clickToSummary: SlackLatency;
  targets: { submitToCard: boolean; clickToStarted: boolean; clickToSummary: boolean };
  /** Markdown lines ready to print. */
  report: string[];
}

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function summarize(samples: readonly number[]): SlackLatency {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50Ms: percentile(s, 50), p90Ms: percentile(s, 90), p99Ms: percentile(s, 99) };
}

const median = (samples: readonly number[]) => percentile([...samples].sort((a, b) => a - b), 50);
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

/** One query through the whole flow; all times in ms since the epoch. */
interface Sample {
  submit: number;
  /** POST /v1/queries answered (202). */
  submitted: number;
  created: number;
  card: number;
  click: number;
  /** The click's HTTP answer (Bolt acked). */
  acked: number;
  voted: number;
  started: number;
  finished: number;
  summary: number;
}

/**
 * Measure the three latencies. `samples` (default 60, or BENCH_SLACK_SAMPLES)
 * measured queries after `warmup` (default 10) unmeasured ones.
 */
export async function benchSlack(options: { samples?: number; warmup?: number; log?: (line: string) => void } = {}): Promise<SlackBenchResult> {
  const samples = options.samples ?? Number(process.env.BENCH_SLACK_SAMPLES ?? 60);
  const warmup = options.warmup ?? 10;
  const log = options.log ?? (() => {});
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench-slack-${randomUUID().slice(0, 8)}`;
  const stateDir = await mkdtemp(join(tmpdir(), 'airlock-bench-slack-'));

  const slack = await startFakeSlack();
  slack.setUser(APPROVER, { email: 'bench-approver@example.com', name: 'bench-approver' });
  slack.setUser(OWNER, { email: OWNER_EMAIL, name: 'bench-owner' });
  const text = (await readFile('policies/default.yaml', 'utf8')).replace(
    'data-owners: { slack_users: [], slack_usergroups: [] }',
    `data-owners: { slack_users: [${APPROVER}], slack_usergroups: [] }`,
  );
  if (text.includes('data-owners: { slack_users: [],')) throw new Error('bench: could not name the approver in policies/default.yaml');
  const parsed = parsePolicy(text);
  if (!parsed.ok) throw new Error(`bench: policy: ${JSON.stringify(parsed.problems)}`);

  log(`bench: Slack approvals, starting Airlock dev stack with the fake Slack (redis ${redisUrl}, prefix ${prefix})…`);
  const env = await startDev({
    config: loadConfig({
      REDIS_URL: redisUrl,
      AIRLOCK_REDIS_PREFIX: prefix,
      AIRLOCK_PORT: '0',
      AIRLOCK_LOG_LEVEL: 'silent',
      SLACK_BOT_TOKEN: 'xoxb-bench-token',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_APPROVAL_CHANNEL: CHANNEL,
      SLACK_API_URL: slack.url,
    }),
    logger: createLogger({ level: (process.env.BENCH_LOG_LEVEL ?? 'silent') as 'silent' }),
    stateDir,
    port: 0,
    policy: parsed.policy,
  });

  try {
    const token = await env.mintToken({ agent: 'bench-agent', owner: OWNER_EMAIL, groups: ['analysts'] });
    const api = async (path: string, body?: unknown): Promise<{ status: number; json: any }> => {
      const res = await fetch(`${env.apiUrl}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, json: await res.json() };
    };
    const mentions = (c: FakeSlackCall, id: string) => JSON.stringify(c.body).includes(id);

    /** Until the fake has seen no call for `ms`: the previous query's card updates are done. */
    const quiet = async (ms = 40) => {
      const end = Date.now() + 15_000;
      while (slack.calls.length > 0 && Date.now() - slack.calls.at(-1)!.at < ms) {
        if (Date.now() > end) throw new Error('bench: Slack never went quiet');
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    let n = 0;
    const one = async (): Promise<Sample> => {
      await quiet();
      // Forget the previous query's calls, so matching stays cheap (the fake shares this event loop).
      slack.reset();
      const sql = `delete from customers where customer_id = ${ID_BASE + n++}`;

      const submit = Date.now();
      const submitted = await api('/v1/queries', { sql });
      const submittedAt = Date.now();
      if (submitted.status !== 202 || submitted.json.status !== 'pending_approval') {
        throw new Error(`bench: expected 202 pending_approval, got ${submitted.status} ${JSON.stringify(submitted.json).slice(0, 300)}`);
      }
      const id: string = submitted.json.id;
      const card = await slack.waitForCall('chat.postMessage', (c) => c.body.thread_ts === undefined && mentions(c, id), 10_000);
      const ts = [...slack.messages.entries()].find(([, m]) => m.thread_ts === undefined && JSON.stringify(m.blocks).includes(id))?.[0];
      if (!ts) throw new Error(`bench: card of ${id} not found in the fake`);
      // A click counts only once Airlock has recorded the card it came from (docs/approvals.md, binding).
      await cardRecorded(prefix, id);

      const body = interactivityBody(
        blockActionsPayload({ userId: APPROVER, actionId: APPROVE_ACTION_ID, value: id, channel: CHANNEL, messageTs: ts, triggerId: triggerId() }),
      );
      const req = signedFormRequest({ secret: SECRET, body });
      const click = Date.now();
      const res = await fetch(`${env.apiUrl}/slack/events`, { method: 'POST', headers: { ...req.headers }, body: req.body });
      await res.text();
      const acked = Date.now();
      if (res.status !== 200) throw new Error(`bench: click answered ${res.status}`);

      const summary = await slack.waitForCall('chat.postMessage', (c) => c.body.thread_ts === ts, 10_000);
      const done = await api(`/v1/queries/${id}?waitMs=10000`);
      const view = done.json as {
        status: string;
        createdAt: string;
        execution?: { startedAt: string; finishedAt?: string };
        approval?: { votes: { vote: string; at: string }[] };
      };
      if (view.status !== 'succeeded' || !view.execution?.startedAt || !view.execution.finishedAt) {
        throw new Error(`bench: expected succeeded with execution times, got ${JSON.stringify(view).slice(0, 300)}`);
      }
      const vote = view.approval?.votes.find((v) => v.vote === 'approve');
      return {
        submit,
        submitted: submittedAt,
        created: Date.parse(view.createdAt),
        card: card.at,
        click,
        acked,
        voted: vote ? Date.parse(vote.at) : Number.NaN,
        started: Date.parse(view.execution.startedAt),
        finished: Date.parse(view.execution.finishedAt),
        summary: summary.at,
      };
    };

    log(`bench: Slack approvals, warming up (${warmup})…`);
    for (let i = 0; i < warmup; i++) await one();
    log(`bench: Slack approvals, ${samples} sequential queries…`);
    const got: Sample[] = [];
    for (let i = 0; i < samples; i++) {
      got.push(await one());
      if ((i + 1) % 20 === 0) log(`bench: Slack approvals ${i + 1}/${samples}`);
    }

    const submitToCard = summarize(got.map((s) => s.card - s.submit));
    const clickToStarted = summarize(got.map((s) => s.started - s.click));
    const clickToSummary = summarize(got.map((s) => s.summary - s.click));
    const targets = { submitToCard: submitToCard.p50Ms <= 50, clickToStarted: clickToStarted.p50Ms <= 30, clickToSummary: clickToSummary.p50Ms <= 200 };
    const met = (ok: boolean) => (ok ? 'met' : '**MISSED**');
    const row = (name: string, l: SlackLatency, target: string, ok: boolean) =>
      `| ${name} | ${l.n} | ${fmt(l.p50Ms)} | ${fmt(l.p90Ms)} | ${fmt(l.p99Ms)} | p50 ≤ ${target} | ${met(ok)} |`;
    const seg = (name: string, f: (s: Sample) => number) => `| ${name} | ${fmt(median(got.map(f)))} |`;
    const votes = got.filter((s) => Number.isFinite(s.voted));
    const report = [
      '',
      `Approvals in Slack against the fake Slack, ${samples} sequential queries after ${warmup} warm-up (one process: API + worker + Slack roles, fake Slack, bench client; Date.now() clocks, 1 ms resolution)`,
      '| measure | n | p50 | p90 | p99 | target | |',
      '|---|---|---|---|---|---|---|',
      row('submit → card posted (POST /v1/queries → fake chat.postMessage)', submitToCard, '50 ms', targets.submitToCard),
      row('click → execution started (signed click POSTed → record execution.startedAt)', clickToStarted, '30 ms', targets.clickToStarted),
      row('click → thread summary posted (→ fake chat.postMessage with thread_ts)', clickToSummary, '200 ms', targets.clickToSummary),
      '',
      'Where the time goes (medians of the same samples; record and fake timestamps):',
      '| segment | median |',
      '|---|---|',
      seg('submit → record createdAt (HTTP in, token check, policy)', (s) => s.created - s.submit),
      seg('submit → API answered 202', (s) => s.submitted - s.submit),
      seg('createdAt → card posted (record write, slack outbox: BullMQ pickup, render, chat.postMessage)', (s) => s.card - s.created),
      seg('click → click acknowledged (HTTP 200 from /slack/events)', (s) => s.acked - s.click),
      ...(votes.length === got.length ? [seg('click → vote recorded (signature, Bolt, directory look-ups, CAS)', (s) => s.voted - s.click)] : []),
      ...(votes.length === got.length ? [seg('vote recorded → execution started (approved → queued, BullMQ execute pickup)', (s) => s.started - s.voted)] : []),
      seg('execution started → finished (emulator, result stored)', (s) => s.finished - s.started),
      seg('finished → thread summary posted (slack outbox: pickup, chat.update, chat.postMessage)', (s) => s.summary - s.finished),
      '',
      `targets: submit → card p50 ≤ 50 ms: ${targets.submitToCard ? 'met' : 'MISSED'}; click → started p50 ≤ 30 ms: ${targets.clickToStarted ? 'met' : 'MISSED'}; click → summary p50 ≤ 200 ms: ${targets.clickToSummary ? 'met' : 'MISSED'}`,
    ];
    return { submitToCard, clickToStarted, clickToSummary, targets, report };
  } finally {
    await env.close();
    await slack.close();
    const redis = new Redis(redisUrl);
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await rm(stateDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchSlack({ log: (l) => process.stderr.write(`${l}\n`) }).then(
    (r) => {
      process.stdout.write(`${r.report.join('\n')}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
