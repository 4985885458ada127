/**
 * Airlock's API and Slack roles on real Redis, behind a real dev OIDC issuer,
 * receiving correctly signed Slack requests, with the Web API pointed at the
 * local fake Slack. No worker: an approved query stops at `queued`, which is
 * all the attack suites in test/security need to see whether a vote counted.
 */
import { readFile } from 'node:fs/promises';
import { buildApp, type AirlockApp } from '../../src/app/build.ts';
import { loadConfig } from '../../src/config/env.ts';
import { startDevIssuer, type DevIssuer } from '../../src/identity/dev-issuer.ts';
import { createLogger } from '../../src/log.ts';
import { parsePolicy } from '../../src/policy/schema.ts';
import { APPROVE_ACTION_ID, DENY_ACTION_ID } from '../../src/slack/presenters.ts';
import type { FakeSlack } from './fake-slack.ts';
import { blockActionsPayload, interactivityBody, signedFormRequest, slashCommandBody, triggerId } from './slack-sign.ts';
import { Redis } from 'ioredis';
import { queryRecordKey } from '../../src/queries/store.ts';
import { REDIS_URL } from './redis.ts';
import { until } from './until.ts';

export const SIGNING_SECRET = 'security-signing-secret-0123456789';
export const CHANNEL = 'C0APPROVALS';
const AUDIENCE = 'https://airlock.test/api';

export interface HarnessOptions {
  slack: FakeSlack;
  prefix: string;
  /** Slack user and group ids of the policy's `data-owners` (the default policy's review rules name it). */
  approvers: { users: string[]; usergroups?: string[] };
  /** More environment (AIRLOCK_IDENTITY_ALIASES, AIRLOCK_OWNERLESS_TOKENS, AIRLOCK_SLACK_REVIEWERS, …). */
  env?: Record<string, string>;
}

export interface Harness {
  apiUrl: string;
  /** A real token from the dev issuer (an agent with this owner claim, or none). */
  token(owner?: string, scopes?: string[]): Promise<string>;
  /** POST /v1/queries; returns status and body. */
  submit(token: string, sql: string): Promise<{ status: number; json: any }>;
  /** GET /v1/queries/:id as the agent. */
  view(token: string, id: string): Promise<any>;
  /** Events of a session, read back as a reviewer (GET /v1/sessions/:id), or with `token` (the agent's own view). */
  sessionEvents(id: string, token?: string): Promise<Array<{ type: string; data: any }>>;
  /** The card Airlock posted for a query: its channel and ts. */
  cardOf(id: string): Promise<{ channel: string; ts: string }>;
  /** A signed request to /slack/events; returns status and body text. */
  post(body: string): Promise<{ status: number; text: string }>;
  /** A signed Approve or Deny click, from the card unless `where` says otherwise. */
  click(user: string, id: string, where: { channel: string; ts: string; payload?: (p: Record<string, any>) => void }, action?: 'approve' | 'deny'): Promise<number>;
  /** A signed `/airlock …` command. */
  command(user: string, text: string, channel?: string): Promise<{ status: number; text: string }>;
  close(): Promise<void>;
}

/** The shipped policy with `data-owners` filled in. */
async function policyWith(approvers: HarnessOptions['approvers']) {
  const text = (await readFile('policies/default.yaml', 'utf8')).replace(
    'data-owners: { slack_users: [], slack_usergroups: [] }',
    `data-owners: { slack_users: [${approvers.users.join(', ')}], slack_usergroups: [${(approvers.usergroups ?? []).join(', ')}] }`,
  );
  const parsed = parsePolicy(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.policy;
}

/**
 * Wait until the query record holds its card's address. Slack shows the card as
 * soon as chat.postMessage returns, a moment before Airlock records where it is;
 * a click in between is refused as out of place, so tests wait for both.
 */
export async function cardRecorded(prefix: string, id: string): Promise<{ channel: string; ts: string }> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    return await until(`the card of ${id} to be recorded`, async () => {
      const raw = await redis.hget(queryRecordKey(prefix, id), 'approval');
      const card = raw ? (JSON.parse(raw) as { card?: { channel: string; ts: string } }).card : undefined;
      return card ? { channel: card.channel, ts: card.ts } : undefined;
    });
  } finally {
    redis.disconnect();
  }
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const issuer: DevIssuer = await startDevIssuer({ audience: AUDIENCE, port: 0 });
  let app: AirlockApp | undefined;
  try {
    const config = loadConfig({
      REDIS_URL,
      AIRLOCK_REDIS_PREFIX: opts.prefix,
      AIRLOCK_PORT: '0',
      AIRLOCK_LOG_LEVEL: 'silent',
      AIRLOCK_AUDIT_EXPORT_INTERVAL_SECONDS: '0',
      OIDC_ISSUER: issuer.issuer,
      OIDC_AUDIENCE: AUDIENCE,
      SLACK_BOT_TOKEN: 'xoxb-security-test',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_APPROVAL_CHANNEL: CHANNEL,
      SLACK_API_URL: opts.slack.url,
      ...opts.env,
    });
    app = await buildApp(config, { roles: ['api', 'slack'], logger: createLogger({ level: 'silent' }), policy: await policyWith(opts.approvers), allowInsecureIssuer: true });
    const apiUrl = (await app.listen())!;
    const built = app;
    const reviewerToken = await issuer.mintToken({ agent: 'security-reviewer', scopes: ['airlock:review'] });
    const post = async (body: string) => {
      const req = signedFormRequest({ secret: SIGNING_SECRET, body });
      const res = await fetch(`${apiUrl}/slack/events`, { method: 'POST', headers: { ...req.headers }, body: req.body });
      return { status: res.status, text: await res.text() };
    };
    const harness: Harness = {
      apiUrl,
      token: (owner, scopes) => issuer.mintToken({ agent: 'etl-bot', ...(owner !== undefined ? { owner } : {}), groups: ['analysts'], ...(scopes ? { scopes } : {}) }),
      async submit(token, sql) {
        const res = await fetch(`${apiUrl}/v1/queries`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ sql }) });
        return { status: res.status, json: await res.json() };
      },
      async view(token, id) {
        const res = await fetch(`${apiUrl}/v1/queries/${id}`, { headers: { authorization: `Bearer ${token}` } });
        return res.json();
      },
      async sessionEvents(id, as = reviewerToken) {
        const res = await fetch(`${apiUrl}/v1/sessions/${id}`, { headers: { authorization: `Bearer ${as}` } });
        const json = (await res.json()) as { events?: Array<{ type: string; data: unknown }> };
        return json.events ?? [];
      },
      async cardOf(id) {
        const shown = await until(`the card of ${id}`, () => {
          const found = [...opts.slack.messages.entries()].find(([, m]) => m.thread_ts === undefined && JSON.stringify(m.blocks).includes(id));
          return found ? { channel: found[1].channel, ts: found[0] } : undefined;
        });
        await cardRecorded(opts.prefix, id);
        return shown;
      },
      post,
      async click(user, id, where, action = 'approve') {
        const payload = blockActionsPayload({
          userId: user,
          actionId: action === 'approve' ? APPROVE_ACTION_ID : DENY_ACTION_ID,
          value: id,
          channel: where.channel,
          messageTs: where.ts,
          triggerId: triggerId(),
        }) as Record<string, any>;
        where.payload?.(payload);
        return (await post(interactivityBody(payload))).status;
      },
      async command(user, text, channel = CHANNEL) {
        return post(slashCommandBody({ userId: user, command: '/airlock', text, channelId: channel }));
      },
      async close() {
        await built.close();
        await issuer.close();
      },
    };
    return harness;
  } catch (err) {
    await app?.close();
    await issuer.close();
    throw err;
  }
}
